// The library: drop zone and "Add…" buttons, the documents with thumbnails, page counts and
// status, and search (full-text, or by meaning) whose hits open their page.
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { api, thumbnail } from "./api";
import type { Document } from "./bindings/Document";
import type { SearchHit } from "./bindings/SearchHit";
import { $, errorText, h } from "./dom";
import * as jobs from "./jobs";
import { withoutPath } from "./time";
import { emit, on, open, state } from "./state";

export function status(d: Document): { label: string; tone: string; why?: string } {
  if (d.failed_pages) return { label: `${d.failed_pages} page${d.failed_pages > 1 ? "s" : ""} failed`, tone: "bad", why: "Some pages could not be read; the others are kept." };
  if (d.needs_reader_pages) return { label: "needs model", tone: "warn", why: `${d.needs_reader_pages} page(s) have no text yet: install the OCR models (see Models) and read them again.` };
  if (d.ocr_pages) return { label: `read by OCR`, tone: "ok" };
  return { label: "done", tone: "ok" };
}

export async function refresh() {
  try {
    const lib = await api.library();
    state.documents = lib.documents;
    if (state.current) state.current = lib.documents.find((d) => d.id === state.current!.id) ?? null;
    $("#library-dir").textContent = lib.dir;
    emit("documents");
  } catch (e) {
    $("#library-note").textContent = errorText(e);
  }
}

/// Import paths the person dropped or picked; progress goes to the jobs panel.
export async function importPaths(paths: string[]) {
  if (!paths.length) return;
  const job = jobs.startJob(paths.length === 1 ? `Adding ${paths[0].split(/[\\/]/).pop()}` : `Adding ${paths.length} items`);
  try {
    const outcomes = await api.import(paths, job.id, (p) => {
      jobs.track(job, p);
      if (p.event === "file-started") state.reading.set(p.data.path, "reading");
      if (p.event === "file-finished") {
        state.reading.delete(p.data.outcome.path);
        const err = p.data.outcome.error;
        if (err) state.failed = [...state.failed.filter((f) => f.path !== p.data.outcome.path), { path: p.data.outcome.path, kind: err.kind, message: withoutPath(err.message, p.data.outcome.path) }];
        else refresh();
      }
      emit("documents");
    });
    jobs.finish(job);
    await refresh();
    const first = outcomes.find((o) => o.doc_id);
    const doc = first && state.documents.find((d) => d.id === first.doc_id);
    if (doc && !state.current) open(doc);
  } catch (e) {
    jobs.finish(job, errorText(e));
  } finally {
    state.reading.clear();
    emit("documents");
  }
}

export async function add(folders: boolean) {
  try {
    await importPaths(await api.pickFiles(folders));
  } catch (e) {
    $("#library-note").textContent = errorText(e);
  }
}

function docItem(d: Document): HTMLElement {
  const s = status(d);
  const check = h("input", { type: "checkbox", title: "Select for the fields table", checked: state.selected.has(d.id) });
  check.addEventListener("click", (e) => e.stopPropagation());
  check.addEventListener("change", () => (check.checked ? state.selected.add(d.id) : state.selected.delete(d.id)));
  return h(
    "li.doc",
    { dataset: { id: d.id }, class: state.current?.id === d.id ? "active" : "", tabindex: 0, title: d.origin, onclick: () => open(d), onkeydown: (e: KeyboardEvent) => e.key === "Enter" && open(d) },
    check,
    h("img.thumb", { src: thumbnail(d.id), alt: "", loading: "lazy" }),
    h("div.doc-text", {}, h("div.name", {}, d.name), h("div.meta", {}, `${d.pages} page${d.pages === 1 ? "" : "s"} · ${d.kind.toUpperCase()} `, h(`span.badge.${s.tone}`, { title: s.why ?? "" }, s.label))),
    removeButton(d),
  );
}

/// Remove from the library (the original file stays where it was): a second click confirms.
function removeButton(d: Document): HTMLElement {
  const button = h("button.icon.remove", { title: "Remove from the library" }, "×");
  button.addEventListener("click", async (e) => {
    e.stopPropagation();
    if (!button.classList.contains("confirm")) {
      button.classList.add("confirm");
      button.textContent = "Remove?";
      return;
    }
    try {
      const wasOpen = state.current?.id === d.id;
      await api.remove(d.id);
      state.selected.delete(d.id);
      await refresh(); // forgets the open document when it was this one
      if (wasOpen) {
        emit("open");
        emit("page");
      }
    } catch (err) {
      $("#library-note").textContent = errorText(err);
    }
  });
  button.addEventListener("blur", () => {
    button.classList.remove("confirm");
    button.textContent = "×";
  });
  return button;
}

function renderList() {
  const items: HTMLElement[] = [];
  for (const [path] of state.reading) items.push(h("li.doc.pending", {}, h("div.thumb.spinner"), h("div.doc-text", {}, h("div.name", {}, path.split(/[\\/]/).pop() ?? path), h("div.meta", {}, h("span.badge.info", {}, "reading…")))));
  items.push(...state.documents.map(docItem));
  for (const f of state.failed)
    items.push(h("li.doc.failed", { title: f.message }, h("div.thumb.broken", {}, "!"), h("div.doc-text", {}, h("div.name", {}, f.path.split(/[\\/]/).pop() ?? f.path), h("div.meta.reason", {}, h("span.badge.bad", {}, "failed"), " ", f.message))));
  $("#documents").replaceChildren(...items);
  $("#library-empty").hidden = items.length > 0;
  $("#library-count").textContent = state.documents.length ? `${state.documents.length} document${state.documents.length === 1 ? "" : "s"}` : "";
}

function hitItem(hit: SearchHit): HTMLElement {
  // The snippet marks matched words with [ ]; shown as highlights, as text (never as HTML).
  const parts = hit.snippet.split(/(\[[^\]]*\])/).map((p) => (p.startsWith("[") ? h("mark", {}, p.slice(1, -1)) : p));
  return h(
    "li.hit",
    {
      tabindex: 0,
      onclick: () => {
        const d = state.documents.find((x) => x.id === hit.doc_id);
        if (d) open(d, hit.page);
      },
    },
    h("div.name", {}, `${hit.name} · page ${hit.page}`),
    h("div.snippet", {}, ...parts),
  );
}

let searchSeq = 0;
async function runSearch() {
  const q = $<HTMLInputElement>("#search").value.trim();
  const semantic = $<HTMLInputElement>("#semantic").checked;
  const list = $("#hits");
  if (!q) {
    list.hidden = true;
    return;
  }
  const seq = ++searchSeq;
  try {
    const hits = await api.search(q, semantic);
    if (seq !== searchSeq) return;
    list.replaceChildren(...(hits.length ? hits.map(hitItem) : [h("li.empty", {}, `No page mentions “${q}”.`)]));
  } catch (e) {
    list.replaceChildren(h("li.empty", {}, errorText(e)));
  }
  list.hidden = false;
}

export function mount() {
  $("#add-files").addEventListener("click", () => add(false));
  $("#add-folder").addEventListener("click", () => add(true));
  let timer = 0;
  $("#search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(runSearch, 150);
  });
  $("#semantic").addEventListener("change", runSearch);
  on("documents", renderList);
  on("open", renderList);
  // Files and folders dropped anywhere on the window.
  const zone = $("#drop-overlay");
  getCurrentWebview()
    .onDragDropEvent((e) => {
      const p = e.payload;
      zone.hidden = p.type !== "over" && p.type !== "enter";
      if (p.type === "drop") importPaths(p.paths);
    })
    .catch(() => {});
  renderList();
}
