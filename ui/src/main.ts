// Pagewise's window: the library on the left; Read (page viewer and ask panel), Fields, Jobs and
// Models as views; keyboard shortcuts for the common actions. Themes follow the system.
import "./style.css";
import { api } from "./api";
import * as ask from "./ask";
import { $, typing } from "./dom";
import * as fields from "./fields";
import * as jobs from "./jobs";
import * as library from "./library";
import * as models from "./models";
import * as reread from "./reread";
import { currentView, emit, goToPage, on, open, showView, state, type View } from "./state";
import * as viewer from "./viewer";

function renderView() {
  const v = currentView();
  for (const section of document.querySelectorAll<HTMLElement>("main > section")) section.hidden = section.id !== `view-${v}`;
  for (const tab of document.querySelectorAll<HTMLButtonElement>("nav button[data-view]")) tab.setAttribute("aria-selected", String(tab.dataset.view === v));
  if (v === "models") models.render();
}

const VIEWS: View[] = ["read", "fields", "jobs", "models"];

function shortcuts(e: KeyboardEvent) {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "o") return e.preventDefault(), library.add(e.shiftKey);
  if (mod && e.key.toLowerCase() === "k") return e.preventDefault(), showView("read"), $("#question").focus();
  if (mod && e.key.toLowerCase() === "f") return e.preventDefault(), $("#search").focus();
  if (typing(e) || mod || e.altKey) return;
  const read = currentView() === "read";
  const keys: Record<string, () => void> = {
    "/": () => $("#search").focus(),
    ArrowRight: () => read && goToPage(state.page + 1),
    ArrowLeft: () => read && goToPage(state.page - 1),
    PageDown: () => read && goToPage(state.page + 1),
    PageUp: () => read && goToPage(state.page - 1),
    j: () => read && goToPage(state.page + 1),
    k: () => read && goToPage(state.page - 1),
    Home: () => read && goToPage(1),
    End: () => read && goToPage(state.current?.pages ?? 1),
    "+": viewer.zoomIn,
    "=": viewer.zoomIn,
    "-": viewer.zoomOut,
    "0": () => viewer.setZoom("fit-width"),
    l: () => viewer.toggle("layout"),
    o: () => viewer.toggle("order"),
    w: () => viewer.toggle("words"),
    p: () => viewer.toggleOriginal(),
    "?": () => ($("#help").hidden = !$("#help").hidden),
    Escape: () => {
      state.highlight = [];
      emit("highlight");
      $("#help").hidden = true;
    },
  };
  const n = Number(e.key);
  if (n >= 1 && n <= VIEWS.length) return showView(VIEWS[n - 1]);
  const f = keys[e.key];
  if (f) {
    e.preventDefault();
    f();
  }
}

async function start() {
  for (const tab of document.querySelectorAll<HTMLButtonElement>("nav button[data-view]")) tab.addEventListener("click", () => showView(tab.dataset.view as View));
  $("#help-button").addEventListener("click", () => ($("#help").hidden = !$("#help").hidden));
  document.addEventListener("keydown", shortcuts);
  on("view", renderView);
  library.mount();
  viewer.mount();
  ask.mount();
  reread.mount();
  jobs.render();
  renderView();
  const [lib] = await Promise.all([api.library(), fields.mount()]);
  for (const { label, colour } of lib.label_colours) viewer.LABEL_COLOURS[label] = colour;
  await library.refresh(lib);
  // Open where the person will most likely start: the first document.
  if (state.documents.length) open(state.documents[0]);
  // Interactive: the library is listed. The benchmark reads these through WebDriver.
  const w = window as unknown as { __pagewise: object };
  w.__pagewise = { viewer: viewer.timings, ask: ask.timings, coldStartMs: Date.now() - lib.process_started_ms, readyAt: performance.now() };
  document.body.dataset.ready = "true";
}

start();
