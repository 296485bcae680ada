// Jobs: every import and field run, with a progress bar, counts, time left, a cancel button and
// the errors of the documents that failed. The header shows the running one in brief.
import { api } from "./api";
import type { Progress } from "./bindings/Progress";
import { $, h } from "./dom";
import { eta, inWords, withoutPath } from "./time";

export interface Job {
  id: number;
  title: string;
  total: number;
  done: number;
  current: string;
  started: number;
  finished: boolean;
  cancelled: boolean;
  errors: { what: string; why: string }[];
}

const jobs: Job[] = [];
let nextId = 1;

export function startJob(title: string): Job {
  const job: Job = { id: nextId++, title, total: 0, done: 0, current: "", started: Date.now(), finished: false, cancelled: false, errors: [] };
  jobs.unshift(job);
  render();
  return job;
}

/// Follow the engine's progress events for a job.
export function track(job: Job, p: Progress) {
  switch (p.event) {
    case "job-started":
      job.total = p.data.files;
      break;
    case "file-started":
      job.current = p.data.path.split(/[\\/]/).pop() ?? p.data.path;
      break;
    case "page-read":
      if (p.data.pages > 1) job.current = job.current.replace(/ · page .*$/, "") + ` · page ${p.data.page}/${p.data.pages}`;
      break;
    case "file-finished":
      job.done++;
      if (p.data.outcome.error) job.errors.push({ what: p.data.outcome.path, why: withoutPath(p.data.outcome.error.message, p.data.outcome.path) });
      break;
    case "extracted":
      job.done++;
      if (p.data.error) job.errors.push({ what: p.data.name, why: p.data.error.message });
      break;
    case "job-finished":
      job.finished = true;
      job.cancelled = p.data.cancelled;
      job.current = "";
      break;
  }
  render();
}

/// Progress measured in something other than files (a download's megabytes).
export function progress(job: Job, done: number, total: number, current: string) {
  job.done = done;
  job.total = total;
  job.current = current;
  render();
}

export function finish(job: Job, error?: string) {
  job.finished = true;
  if (error) job.errors.push({ what: job.title, why: error });
  render();
}

function bar(job: Job): HTMLElement {
  const pct = job.total ? Math.round((100 * job.done) / job.total) : 0;
  const left = eta(job);
  const status = job.finished ? (job.cancelled ? "cancelled" : "done") : left !== null ? `about ${inWords(left)} left` : "starting…";
  return h(
    "div.job",
    { dataset: { job: String(job.id), state: job.finished ? "done" : "running" } },
    h("div.job-head", {}, h("strong", {}, job.title), h("span.muted", {}, `${job.done}/${job.total} · ${status}`)),
    h("progress", { max: 100, value: pct }),
    job.current ? h("div.muted.small", {}, job.current) : null,
    !job.finished ? h("button.small", { onclick: () => api.cancel(job.id) }, "Cancel") : null,
    job.errors.length ? h("ul.errors", {}, ...job.errors.map((e) => h("li", {}, h("strong", {}, e.what.split(/[\\/]/).pop() ?? e.what), ": ", e.why))) : null,
  );
}

export function render() {
  const list = document.querySelector("#jobs-list");
  if (list) list.replaceChildren(...(jobs.length ? jobs.map(bar) : [h("p.empty", {}, "No jobs yet. Importing documents and running a schema show their progress here.")]));
  const running = jobs.find((j) => !j.finished);
  const brief = $("#job-brief");
  brief.replaceChildren(...(running ? [h("span", {}, `${running.title} ${running.done}/${running.total}`), h("progress", { max: running.total || 1, value: running.done })] : []));
  brief.hidden = !running;
}
