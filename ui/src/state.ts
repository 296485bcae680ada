// What the screens share: the library's documents, the open document and page, and a way to
// tell the others that something changed. Plain objects and callbacks.
import type { Document } from "./bindings/Document";
import type { Evidence } from "./bindings/Evidence";

export type View = "read" | "fields" | "jobs" | "models";

/// A file that could not be imported: shown in the library with its reason.
export interface FailedImport {
  path: string;
  kind: string;
  message: string;
}

export const state = {
  /// The library's documents by position in the list (the order they were added); a large
  /// library is loaded a page at a time as the list scrolls, so unloaded positions are holes.
  documents: [] as Document[],
  failed: [] as FailedImport[],
  /// Paths being imported right now (shown as "reading" in the library).
  reading: new Map<string, string>(),
  current: null as Document | null,
  page: 1,
  /// Documents ticked in the library (the fields run uses these, or all when none).
  selected: new Set<string>(),
  /// Boxes to highlight on the page (an answer's or a field's evidence).
  highlight: [] as Evidence[],
};

/// A loaded document by id (undefined when its page of the list is not loaded).
export function loaded(id: string): Document | undefined {
  for (const d of state.documents) if (d && d.id === id) return d;
  return undefined;
}

type Topic = "documents" | "open" | "page" | "highlight" | "view" | "models";
const listeners = new Map<Topic, Array<() => void>>();

export function on(topic: Topic, f: () => void) {
  listeners.set(topic, [...(listeners.get(topic) ?? []), f]);
}

export function emit(topic: Topic) {
  for (const f of listeners.get(topic) ?? []) f();
}

let view: View = "read";
export const currentView = () => view;
export function showView(v: View) {
  view = v;
  emit("view");
}

/// Open a document at a page (and optionally highlight evidence there).
export function open(doc: Document, page = 1, highlight: Evidence[] = []) {
  const changed = state.current?.id !== doc.id;
  state.current = doc;
  state.page = Math.min(Math.max(1, page), doc.pages);
  state.highlight = highlight;
  // The view first: the viewer measures itself when it draws the page.
  showView("read");
  if (changed) emit("open");
  emit("page");
}

export function goToPage(page: number) {
  if (!state.current) return;
  const p = Math.min(Math.max(1, page), state.current.pages);
  if (p === state.page) return;
  state.page = p;
  state.highlight = state.highlight.filter((e) => e.page === p);
  emit("page");
}
