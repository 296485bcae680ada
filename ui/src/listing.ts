// The library's documents a page at a time: state.documents holds the count (its length) and
// the pages loaded so far (holes elsewhere); the list asks the shell for the pages it scrolls
// to, so a library of 10,000 documents never travels or renders whole.
import { api } from "./api";
import type { Document } from "./bindings/Document";
import type { LibraryView } from "./bindings/LibraryView";
import { loaded, state } from "./state";

/// Documents per page asked of the shell.
export const PAGE = 100;
const inFlight = new Map<number, Promise<void>>();
let generation = 0;

/// Take a fresh library view (its count and first page). The pages `keep` (those in view) are
/// fetched again before the swap, so a list refreshed during an import does not blink.
export async function reset(lib: LibraryView, keep: number[]): Promise<boolean> {
  const gen = ++generation;
  const rows: Document[] = new Array(lib.total);
  lib.documents.forEach((d, i) => (rows[i] = d));
  const wanted = keep.filter((p) => p > 0 && p * PAGE < lib.total);
  const pages = await Promise.all(wanted.map((p) => api.documents(p * PAGE, PAGE).then((docs) => [p, docs] as const)));
  if (gen !== generation) return false;
  for (const [p, docs] of pages) docs.forEach((d, i) => (rows[p * PAGE + i] = d));
  inFlight.clear();
  state.documents = rows;
  return true;
}

/// Load page `p` of the list unless it is loaded or on its way; null when there is nothing to wait for.
export function ensurePage(p: number): Promise<void> | null {
  if (p * PAGE >= state.documents.length || state.documents[p * PAGE] !== undefined) return null;
  let f = inFlight.get(p);
  if (!f) {
    const gen = generation;
    f = api
      .documents(p * PAGE, PAGE)
      .then((docs) => {
        if (gen === generation) docs.forEach((d, i) => (state.documents[p * PAGE + i] = d));
      })
      .finally(() => inFlight.delete(p));
    inFlight.set(p, f);
  }
  return f;
}

/// Every document's id (a fields run over the whole library), a thousand at a time.
export async function allIds(): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < state.documents.length; offset += 1000) ids.push(...(await api.documents(offset, 1000)).map((d) => d.id));
  return ids;
}

/// A document by id: loaded, or asked for (a search hit may be far down an unloaded list).
export async function byId(id: string): Promise<Document | null> {
  return loaded(id) ?? api.document(id).catch(() => null);
}
