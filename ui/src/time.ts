// Job reporting helpers: time left from the pace so far, and error messages (pure; tested in
// time.test.ts).

/// Seconds left, or null until one item is done (or when all are).
export function eta(job: { total: number; done: number; started: number }, now = Date.now()): number | null {
  if (job.done === 0 || job.done >= job.total) return null;
  const perItem = (now - job.started) / job.done;
  return Math.round((perItem * (job.total - job.done)) / 1000);
}

export function inWords(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/// Engine messages start with the file's path; where the file is already named, drop it.
export const withoutPath = (message: string, path: string) => (message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message);
