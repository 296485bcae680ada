// The page viewer: the page drawn at the zoom level (through the shell's page: protocol, cached
// there), zoom and fit, keyboard paging, overlays for layout regions (by label, with a legend),
// reading order and words, a click on a region shows its text (tables as grids), and evidence
// boxes highlighted and scrolled into view. A page straightened from a photo can show the photo
// as it was shot instead (no overlays: their boxes are the straightened page's).
import { api, originalImage, pageImage } from "./api";
import type { PageView } from "./bindings/PageView";
import type { Region } from "./bindings/Region";
import { $, errorText, h } from "./dom";
import { boxAt, drawWidth, scaleFor, scrollToShow, toPage, toScreen, union, zoomStep, type Zoom } from "./geometry";
import { goToPage, on, state } from "./state";

/// Overlay colours by layout label, from the engine (set when the library is loaded).
export const LABEL_COLOURS: Record<string, string> = {};

type Layer = "layout" | "order" | "words";
const layers = new Set<Layer>(JSON.parse(localStorage.getItem("pagewise.layers") ?? '["layout"]'));
let zoom: Zoom = (localStorage.getItem("pagewise.zoom") as Zoom) ?? "fit-width";
if (!["fit-width", "fit-page"].includes(zoom as string)) zoom = Number(zoom) || "fit-width";
let view: PageView | null = null;
let scale = 1;
let selected: number | null = null;
/// Show a photographed page's photo instead of the straightened page.
let showOriginal = false;
const views = new Map<string, PageView>();
/// Pages read again in this session, and how many times (their images' URLs change).
const readings = new Map<string, number>();
let requested = 0;

/// Where a page's words come from, as the toolbar says it.
const SOURCES: Record<PageView["source"], string> = {
  "text-layer": "Words from the text layer",
  ocr: "Words read by OCR",
  vlm: "Words read by PaddleOCR-VL",
  "needs-reader": "Not read yet",
  failed: "Could not be read",
};

/// Timings of the last page shown (read by the benchmark through WebDriver).
export const timings = { pageRequested: 0, viewReady: 0, imageLoaded: 0, pageShown: 0 };

async function pageView(doc: string, page: number): Promise<PageView> {
  const key = `${doc}/${page}`;
  let v = views.get(key);
  if (!v) {
    v = await api.page(doc, page);
    views.set(key, v);
    if (views.size > 64) views.delete(views.keys().next().value!);
  }
  return v;
}

async function show() {
  const doc = state.current;
  const empty = $("#viewer-empty");
  empty.hidden = !!doc;
  $("#sheet").hidden = !doc;
  if (!doc) {
    // Nothing open (the open document was removed): no leftovers of it.
    view = null;
    for (const id of ["#doc-title", "#page-count", "#page-source", "#page-note"]) $(id).textContent = "";
    $("#overlay").replaceChildren();
    $("#legend").replaceChildren();
    return;
  }
  const seq = ++requested;
  timings.pageRequested = performance.now();
  delete $("#sheet").dataset.shown;
  $("#page-no").setAttribute("value", String(state.page));
  $<HTMLInputElement>("#page-no").value = String(state.page);
  $("#page-count").textContent = `/ ${doc.pages}`;
  $("#doc-title").textContent = doc.name;
  // At fit-width the image's size does not depend on the page's: ask for it at once, while
  // the page's words and layout come.
  if (zoom === "fit-width") requestImage(doc.id, state.page, $("#viewport").clientWidth - 32);
  try {
    const v = await pageView(doc.id, state.page);
    if (seq !== requested) return;
    timings.viewReady = performance.now();
    view = v;
    selected = null;
    $("#original-toggle").hidden = !v.from_photo;
    $("#page-source").textContent = SOURCES[v.source];
    $("#page-note").textContent = v.error ? v.error.message : v.source === "needs-reader" ? "This page has no text yet: its reader model is not installed (see Models)." : "";
    layoutSheet();
    renderRegionDetails();
  } catch (e) {
    $("#page-note").textContent = errorText(e);
  }
}

/// Size the sheet for the zoom, load the page image at that size, draw the overlays.
function layoutSheet() {
  if (!view || !state.current) return;
  const port = $("#viewport");
  scale = scaleFor(zoom, view, { width: port.clientWidth - 32, height: port.clientHeight - 32 });
  const [w, hgt] = [view.width * scale, view.height * scale];
  const sheet = $("#sheet");
  const original = showsOriginal();
  sheet.classList.toggle("original", original);
  sheet.style.width = `${w}px`;
  // The photo keeps its own shape, drawn as wide as the page.
  sheet.style.height = original ? "auto" : `${hgt}px`;
  requestImage(state.current.id, state.page, w, original);
  pageShown();
  $("#zoom-level").textContent = `${Math.round(scale * 100)}%`;
  drawOverlays();
}

const showsOriginal = () => showOriginal && !!view?.from_photo;

/// Point the page image at the page (or its photo) drawn for `cssWidth` (unless it shows that already).
let wanted = "";
function requestImage(doc: string, page: number, cssWidth: number, original = false) {
  const img = $<HTMLImageElement>("#page-img");
  const width = drawWidth(cssWidth, window.devicePixelRatio || 1);
  const src = original ? originalImage(doc, page, width) : pageImage(doc, page, width, readings.get(`${doc}/${page}`));
  if (wanted === src) return;
  wanted = src;
  if (img.getAttribute("src") === src) return;
  img.classList.add("loading");
  // Decoded off screen first, then swapped in: the window never stalls on a big image.
  const next = new Image();
  next.src = src;
  next
    .decode()
    .catch(() => {})
    .then(() => {
      if (wanted === src) img.src = src;
    });
}

/// Once both the page's image and its words and layout are in: the page is shown.
function pageShown() {
  const img = $<HTMLImageElement>("#page-img");
  // The image must be the one asked for last: an empty or earlier one is "complete" too.
  if (!img.complete || img.getAttribute("src") !== wanted) return;
  if (!view || view.doc_id !== state.current?.id || view.page !== state.page) return;
  img.classList.remove("loading");
  requestAnimationFrame(() => {
    timings.pageShown = performance.now();
    $("#sheet").dataset.shown = `${state.current?.id}/${state.page}`;
  });
}

function box(cls: string, b: [number, number, number, number], attrs: Record<string, unknown> = {}, ...children: (HTMLElement | string)[]) {
  const r = toScreen(b, scale);
  const el = h("div", { class: cls, ...attrs }, ...children);
  Object.assign(el.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` });
  return el;
}

function drawOverlays() {
  const overlay = $("#overlay");
  const out: HTMLElement[] = [];
  if (!view || showsOriginal()) {
    $("#legend").replaceChildren();
    return overlay.replaceChildren();
  }
  const regions = view.layout.regions;
  if (layers.has("words")) for (const w of view.words) out.push(box("word", w.bbox, { title: w.text }));
  if (layers.has("layout") || layers.has("order"))
    regions.forEach((r, i) => {
      const colour = LABEL_COLOURS[r.label] ?? "#888";
      const el = box(`region${i === selected ? " selected" : ""}${layers.has("layout") ? "" : " bare"}`, r.bbox, { dataset: { label: r.label, index: String(i) }, title: `${r.label}: ${r.text.slice(0, 120)}` });
      el.style.setProperty("--c", colour);
      if (layers.has("order")) el.append(h("span.order", {}, String(r.order + 1)));
      out.push(el);
    });
  // Form key-values found on a scan: the key and its value outlined, the tooltip says how sure.
  if (layers.has("layout"))
    for (const p of view.layout.pairs ?? []) {
      const title = `${p.key} → ${p.value} (${Math.round(p.confidence * 100)}%)`;
      out.push(box("pair-key", p.key_bbox, { title }), box("pair-value", p.value_bbox, { title }));
    }
  for (const e of state.highlight.filter((e) => e.page === state.page)) out.push(box("evidence", e.bbox, { title: e.text }));
  overlay.replaceChildren(...out);
  renderLegend(regions);
  const here = union(state.highlight.filter((e) => e.page === state.page).map((e) => e.bbox));
  if (here) {
    const port = $("#viewport");
    const sheet = $("#sheet");
    // The box in the viewport's scroll coordinates (the sheet sits inside its padding, centred).
    const r = toScreen(here, scale);
    const to = scrollToShow({ ...r, left: r.left + sheet.offsetLeft, top: r.top + sheet.offsetTop }, {
      scrollLeft: port.scrollLeft,
      scrollTop: port.scrollTop,
      width: port.clientWidth,
      height: port.clientHeight,
    });
    if (to) port.scrollTo({ left: to.left, top: to.top, behavior: "smooth" });
  }
}

// Colours are set through the CSSOM: the CSP allows no inline style attributes.
function swatch(colour: string): HTMLElement {
  const i = h("i");
  i.style.background = colour;
  return i;
}

function renderLegend(regions: Region[]) {
  const labels = [...new Set(regions.map((r) => r.label))];
  $("#legend").replaceChildren(
    ...(layers.has("layout") ? labels.map((l) => h("span.legend-item", {}, swatch(LABEL_COLOURS[l]), `${l} (${regions.filter((r) => r.label === l).length})`)) : []),
  );
}

function renderRegionDetails() {
  const panel = $("#region");
  const r = view && selected !== null ? view.layout.regions[selected] : null;
  panel.hidden = !r;
  if (!r) return;
  const grid = r.cells?.length ? tableGrid(r) : null;
  panel.replaceChildren(
    h("div.panel-head", {}, h("strong", {}, `${r.label}`), h("span.muted", {}, ` · #${r.order + 1} in reading order · ${Math.round(r.confidence * 100)}%`), h("button.icon", { title: "Close", onclick: () => select(null) }, "×")),
    grid ?? h("p.region-text", {}, r.text || "(no text)"),
    ...(r.pair ? [h("p.muted", {}, `${r.pair.key} → ${r.pair.value}`)] : []),
  );
}

function tableGrid(r: Region): HTMLElement {
  const cells = r.cells ?? [];
  const rows = Math.max(0, ...cells.map((c) => c.row + c.row_span));
  const body: HTMLElement[] = [];
  for (let row = 0; row < rows; row++) {
    const tr = h("tr");
    for (const c of cells.filter((c) => c.row === row).sort((a, b) => a.col - b.col)) tr.append(h(row === 0 ? "th" : "td", { colSpan: c.col_span, rowSpan: c.row_span }, c.text));
    body.push(tr);
  }
  return h("div.grid-wrap", {}, h("table.grid", {}, h("tbody", {}, ...body)));
}

function select(i: number | null) {
  selected = i;
  drawOverlays();
  renderRegionDetails();
}

/// A page just read again: keep its new words and layout, and show it if it is open.
export function replaceView(v: PageView) {
  const key = `${v.doc_id}/${v.page}`;
  views.set(key, v);
  readings.set(key, (readings.get(key) ?? 0) + 1);
  if (state.current?.id === v.doc_id && state.page === v.page) show();
}

export function setZoom(z: Zoom) {
  zoom = z;
  localStorage.setItem("pagewise.zoom", String(z));
  layoutSheet();
}

export const zoomIn = () => setZoom(zoomStep(scale, 1));
export const zoomOut = () => setZoom(zoomStep(scale, -1));

export function toggle(layer: Layer, on?: boolean) {
  const want = on ?? !layers.has(layer);
  if (want) layers.add(layer);
  else layers.delete(layer);
  localStorage.setItem("pagewise.layers", JSON.stringify([...layers]));
  $<HTMLInputElement>(`#layer-${layer}`).checked = want;
  drawOverlays();
}

export function toggleOriginal(on?: boolean) {
  showOriginal = on ?? !showOriginal;
  $<HTMLInputElement>("#show-original").checked = showOriginal;
  layoutSheet();
}

export function mount() {
  for (const l of ["layout", "order", "words"] as Layer[]) {
    const box = $<HTMLInputElement>(`#layer-${l}`);
    box.checked = layers.has(l);
    box.addEventListener("change", () => toggle(l, box.checked));
  }
  const original = $<HTMLInputElement>("#show-original");
  original.addEventListener("change", () => toggleOriginal(original.checked));
  $("#prev").addEventListener("click", () => goToPage(state.page - 1));
  $("#next").addEventListener("click", () => goToPage(state.page + 1));
  $("#page-no").addEventListener("change", (e) => goToPage(Number((e.target as HTMLInputElement).value) || 1));
  $("#zoom-in").addEventListener("click", zoomIn);
  $("#zoom-out").addEventListener("click", zoomOut);
  $("#fit-width").addEventListener("click", () => setZoom("fit-width"));
  $("#fit-page").addEventListener("click", () => setZoom("fit-page"));
  $("#page-img").addEventListener("load", () => {
    timings.imageLoaded = performance.now();
    pageShown();
  });
  $("#page-img").addEventListener("error", () => ($("#page-note").textContent = "This page could not be drawn."));
  $("#overlay").addEventListener("click", (e) => {
    if (!view) return;
    const rect = $("#sheet").getBoundingClientRect();
    const [x, y] = toPage(e.clientX - rect.left, e.clientY - rect.top, scale);
    select(boxAt(view.layout.regions.map((r) => r.bbox), x, y));
  });
  new ResizeObserver(() => typeof zoom === "string" && layoutSheet()).observe($("#viewport"));
  on("page", show);
  on("highlight", drawOverlays);
  on("documents", () => {
    if (!state.current) show();
  });
  show();
}
