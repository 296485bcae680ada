// The library: drop zone and "Add…" buttons, the documents with thumbnails, page counts and
// status, and search (full-text, or by meaning) whose hits open their page. The list is
// virtual: only the rows in view (and a few around) are in the page, each a fixed height, so
// a library of 10,000 documents starts and scrolls as fast as one of ten.
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { api, thumbnail } from "./api";
import type { Document } from "./bindings/Document";
import type { SearchHit } from "./bindings/SearchHit";
import { $, errorText, h } from "./dom";
import * as jobs from "./jobs";
import { withoutPath } from "./time";
import { byId, ensurePage, PAGE, reset } from "./listing";
import type { LibraryView } from "./bindings/LibraryView";
import type { Progress } from "./bindings/Progress";
import { emit, loaded, on, open, state, type FailedImport } from "./state";

export function status(d: Document): { label: string; tone: string; why?: string } {
  if (d.failed_pages) return { label: `${d.failed_pages} page${d.failed_pages > 1 ? "s" : ""} failed`, tone: "bad", why: "Some pages could not be read; the others are kept." };
  if (d.needs_reader_pages) return { label: "needs model", tone: "warn", why: `${d.needs_reader_pages} page(s) have no text yet: install the OCR models (see Models) and read them again.` };
  if (d.ocr_pages) return { label: `read by OCR`, tone: "ok" };
  return { label: "done", tone: "ok" };
}

/// Height of a row of the list in pixels (style.css gives the rows this height).
const ROW = 64;
/// Rows kept in the page above and below those in view.
const OVERSCAN = 8;

/// The library's count and first page again (`view`: one just fetched), keeping the pages in view.
export async function refresh(view?: LibraryView) {
  try {
    const lib = view ?? (await api.library());
    const [first, last] = inView();
    const pages = [...new Set([Math.floor(first / PAGE), Math.floor(Math.max(first, last - 1) / PAGE)])];
    if (!(await reset(lib, pages))) return;
    if (state.current) state.current = await byId(state.current.id);
    $("#library-dir").textContent = lib.dir;
    emit("documents");
  } catch (e) {
    $("#library-note").textContent = errorText(e);
  }
}

/// Import paths the person dropped or picked (or an encrypted PDF with the password they
/// entered); progress goes to the jobs panel.
export async function importPaths(paths: string[], password: string | null = null) {
  if (!paths.length) return;
  const job = jobs.startJob(paths.length === 1 ? `Adding ${paths[0].split(/[\\/]/).pop()}` : `Adding ${paths.length} items`);
  try {
    const outcomes = await api.import(paths, job.id, (p) => {
      jobs.track(job, p);
      if (p.event === "file-started") state.reading.set(p.data.path, "reading");
      if (p.event === "file-finished") {
        state.reading.delete(p.data.outcome.path);
        const err = p.data.outcome.error;
        state.failed = state.failed.filter((f) => f.path !== p.data.outcome.path);
        if (err) state.failed.push({ path: p.data.outcome.path, kind: err.kind, message: withoutPath(err.message, p.data.outcome.path) });
        else refresh();
      }
      emit("documents");
    }, password);
    jobs.finish(job);
    await refresh();
    const first = outcomes.find((o) => o.doc_id);
    const doc = first?.doc_id && loaded(first.doc_id);
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

/// The rows of the list in view: [first, last) by position, overscan included.
function inView(): [number, number] {
  const list = $("#documents");
  const top = list.scrollTop - state.reading.size * ROW;
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  return [first, Math.min(state.documents.length, Math.ceil((top + list.clientHeight) / ROW) + OVERSCAN)];
}

function placeholder(): HTMLElement {
  return h("li.doc.loading", {}, h("div.thumb.spinner"), h("div.doc-text", {}, h("div.name", {}, "…")));
}

let frame = 0;
function scheduleRender() {
  if (!frame) frame = requestAnimationFrame(() => ((frame = 0), renderList()));
}

function renderList() {
  const pending: HTMLElement[] = [];
  for (const [path] of state.reading) pending.push(h("li.doc.pending", {}, h("div.thumb.spinner"), h("div.doc-text", {}, h("div.name", {}, path.split(/[\\/]/).pop() ?? path), h("div.meta", {}, h("span.badge.info", {}, "reading…")))));
  const [first, last] = inView();
  const rows: HTMLElement[] = [];
  for (let i = first; i < last; i++) {
    const d = state.documents[i];
    if (d) rows.push(docItem(d));
    else {
      rows.push(placeholder());
      ensurePage(Math.floor(i / PAGE))?.then(scheduleRender);
    }
  }
  const failed = state.failed.map(failedItem);
  // Spacers stand for the rows out of view, so the scroll bar measures the whole library.
  const spacer = (rows: number) => h("li.spacer", { style: `height: ${rows * ROW}px` });
  const total = state.documents.length;
  const list = $("#documents");
  // Rows kept between drawings (a failed file's password field) must keep the focus: the list is
  // drawn again as it scrolls and as other processes change the library, maybe mid-typing.
  const focused = list.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null;
  list.replaceChildren(...pending, spacer(first), ...rows, spacer(total - last), ...failed);
  if (focused?.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
  $("#library-empty").hidden = total + pending.length + failed.length > 0;
  $("#library-count").textContent = total ? `${total} document${total === 1 ? "" : "s"}` : "";
}

/// Rows of failed files, made once each: the list is drawn again as it scrolls and refreshes,
/// and a password being typed must not be lost.
const failedRows = new WeakMap<FailedImport, HTMLElement>();

function failedItem(f: FailedImport): HTMLElement {
  let row = failedRows.get(f);
  if (row) return row;
  const name = f.path.split(/[\\/]/).pop() ?? f.path;
  row = h("li.doc.failed", { title: f.message }, h("div.thumb.broken", {}, "!"), h("div.doc-text", {}, h("div.name", {}, name), h("div.meta.reason", {}, h("span.badge.bad", {}, "failed"), " ", f.message), f.kind === "password_required" || f.kind === "wrong_password" ? unlockForm(f.path) : null));
  failedRows.set(f, row);
  return row;
}

/// The password of an encrypted PDF, entered where the list says it needs one.
function unlockForm(path: string): HTMLElement {
  const input = h("input.password", { type: "password", placeholder: "Password", autocomplete: "off", "aria-label": "Password" }) as HTMLInputElement;
  const form = h("form.unlock", {}, input, h("button.small", { type: "submit" }, "Open"));
  form.onsubmit = (e) => {
    e.preventDefault();
    if (input.value) importPaths([path], input.value);
  };
  return form;
}

function hitItem(hit: SearchHit): HTMLElement {
  // The snippet marks matched words with [ ]; shown as highlights, as text (never as HTML).
  const parts = hit.snippet.split(/(\[[^\]]*\])/).map((p) => (p.startsWith("[") ? h("mark", {}, p.slice(1, -1)) : p));
  return h(
    "li.hit",
    {
      tabindex: 0,
      onclick: async () => {
        const d = await byId(hit.doc_id);
        if (d) open(d, hit.page);
      },
    },
    h("div.name", {}, `${hit.name} · page ${hit.page}`),
    h("div.snippet", {}, ...parts),
  );
}

/// Hits asked for at a time; "More results" asks for the next ones.
const HITS = 30;
let searchSeq = 0;

async function runSearch() {
  const q = $<HTMLInputElement>("#search").value.trim();
  const list = $("#hits");
  if (!q) {
    list.hidden = true;
    return;
  }
  const seq = ++searchSeq;
  list.replaceChildren();
  await searchPage(q, 0, seq);
  list.hidden = false;
}

/// One page of hits appended to the list, with "More results" when there may be more.
async function searchPage(q: string, offset: number, seq: number) {
  const semantic = $<HTMLInputElement>("#semantic").checked;
  const list = $("#hits");
  // The first search by meaning embeds every page once: a bar shows how far it is.
  const bar = h("progress", { max: 1, value: 0 });
  const preparing = h("li.empty", { hidden: true }, "Preparing search by meaning… ", bar);
  list.append(preparing);
  const onProgress = (p: Progress) => {
    if (p.event !== "embedding" || seq !== searchSeq) return;
    preparing.hidden = false;
    bar.max = p.data.total;
    bar.value = p.data.done;
    bar.title = `${p.data.done} of ${p.data.total} pages`;
  };
  try {
    const hits = await api.search(q, semantic, offset, HITS, onProgress);
    if (seq !== searchSeq) return;
    preparing.remove();
    if (!hits.length && !offset) list.append(h("li.empty", {}, `No page mentions “${q}”.`));
    list.append(...hits.map(hitItem));
    if (hits.length === HITS) {
      const more = h("li.more", { tabindex: 0 }, "More results");
      more.addEventListener("click", () => (more.remove(), searchPage(q, offset + HITS, seq)));
      list.append(more);
    }
  } catch (e) {
    preparing.remove();
    list.append(h("li.empty", {}, errorText(e)));
  }
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
  const list = $("#documents");
  list.addEventListener("scroll", scheduleRender, { passive: true });
  new ResizeObserver(scheduleRender).observe(list);
  // Files and folders dropped anywhere on the window.
  const zone = $("#drop-overlay");
  getCurrentWebview()
    .onDragDropEvent((e) => {
      const p = e.payload;
      zone.hidden = p.type !== "over" && p.type !== "enter";
      if (p.type === "drop") importPaths(p.paths);
    })
    .catch(() => {});
  // Other processes (a CLI batch, another window) change the library too: look again when the
  // window comes back into view, and every few seconds while it is shown.
  window.addEventListener("focus", () => refreshIfChanged());
  document.addEventListener("visibilitychange", () => document.hidden || refreshIfChanged());
  window.setInterval(() => document.hidden || refreshIfChanged(), ELSEWHERE_MS);
  renderList();
}

/// How often the library is looked at again for changes made by other processes.
const ELSEWHERE_MS = 5000;

/// The list drawn again only when the library's count or first page changed (a row someone is
/// about to click is not redrawn under them for nothing).
async function refreshIfChanged() {
  try {
    const lib = await api.library();
    const same = (d: Document, i: number) => JSON.stringify(d) === JSON.stringify(state.documents[i]);
    if (lib.total !== state.documents.length || !lib.documents.every(same)) await refresh(lib);
  } catch {
    // The next look will tell; a failure to read the library shows where the person acts.
  }
}
