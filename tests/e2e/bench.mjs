// The desktop app's speed, measured on the real application through the same WebDriver tooling
// as the end-to-end tests: cold start to an interactive window, a page shown at fit-width
// (render + decode + paint), and a question typed to its answer drawn.
//
//   xvfb-run -a node tests/e2e/bench.mjs [documents or folders...]
//   xvfb-run -a node tests/e2e/bench.mjs --library DIR    (a large library already built, e.g. by
//     `pagewise-dev bench library`: cold start and the library list's scroll frame times on it)
//
// PAGEWISE_APP names the binary (build it with `cargo build --release -p pagewise-app`).
// Times inside the app come from performance.now() marks the UI keeps (window.__pagewise);
// "wall" times also include the WebDriver round trips.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { Driver, KEY } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = process.env.PAGEWISE_APP;
if (!app) {
  console.error("set PAGEWISE_APP to the app binary (e.g. $CARGO_TARGET_DIR/release/pagewise-app)");
  process.exit(2);
}
const args = process.argv.slice(2);
const big = args.indexOf("--library") >= 0 ? resolve(args.splice(args.indexOf("--library"), 2)[1]) : null;
const extra = args.map((p) => resolve(p));
const work = mkdtempSync(join(tmpdir(), "pagewise-bench-"));
const COLD_STARTS = 5;
const QUESTIONS = ["What is the total?", "When is it due?", "What is the invoice number?", "Who is the vendor?", "What is the VAT?", "What is the subtotal?"];

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: Math.round(q(0.5)), p95: Math.round(q(0.95)), max: Math.round(s[s.length - 1]), samples: xs.map(Math.round) };
};

if (big) {
  await benchLargeLibrary(big);
  process.exit(0);
}

const driver = await Driver.launch({ log: join(root, "target/bench-app-driver.log"), env: { PAGEWISE_LIBRARY: join(work, "library"), PAGEWISE_PICK: [join(root, "assets/demo"), ...extra].join(delimiter) } });
const ready = (s) => s.until("ready", () => s.exec("return document.body.dataset.ready === 'true'"), 60000);
const results = {};
try {
  // Import once (not timed here: `pagewise-dev bench ingest` measures import).
  let s = await driver.session(app);
  await ready(s);
  await s.click("#add-files");
  await s.until("the import", () => s.exec("return !!document.querySelector('.job[data-state=done]')"), 600000);
  await s.close();

  // Cold start: a new process each time, to the library listed and the window answering.
  const cold = [],
    coldWall = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const t0 = Date.now();
    s = await driver.session(app);
    await ready(s);
    coldWall.push(Date.now() - t0);
    cold.push(await s.exec("return window.__pagewise.coldStartMs"));
    if (i < COLD_STARTS - 1) await s.close();
  }
  results.cold_start_ms = stats(cold);
  results.cold_start_wall_ms = stats(coldWall);

  // Pages at fit-width in a 1600x1000 window: every page of every document, first the first
  // page of a document just opened (nothing drawn ahead), then paging on (the next page is
  // drawn ahead while one reads).
  await s.cmd("POST", "/window/rect", { width: 1600, height: 1000 });
  await s.click("#fit-width");
  const docs = await s.exec("return [...document.querySelectorAll('#documents li.doc[data-id]')].map(li => li.dataset.id)");
  const opened = [],
    paged = [],
    viewReady = [],
    imageLoaded = [];
  let width = 0;
  for (const id of docs) {
    await s.exec(`document.querySelector('#documents li[data-id="${id}"]').click()`);
    let page = 1;
    await s.until("first page", () => s.exec(`return document.querySelector('#sheet').dataset.shown === '${id}/1'`), 30000);
    const t = await s.exec("return window.__pagewise.viewer");
    opened.push(t.pageShown - t.pageRequested);
    viewReady.push(t.viewReady - t.pageRequested);
    imageLoaded.push(t.imageLoaded - t.pageRequested);
    width = await s.exec("return document.querySelector('#page-img').naturalWidth");
    const count = Number((await s.exec("return document.querySelector('#page-count').textContent")).replace(/\D/g, ""));
    await s.exec("document.activeElement.blur()");
    while (page < Math.min(count, 30)) {
      page++;
      await s.keys(KEY.right);
      await s.until(`page ${page}`, () => s.exec(`return document.querySelector('#sheet').dataset.shown === '${id}/${page}'`), 30000);
      paged.push(await s.exec("const t = window.__pagewise.viewer; return t.pageShown - t.pageRequested"));
    }
  }
  results.page_shown_first_ms = stats(opened);
  results.first_words_and_layout_in_ms = stats(viewReady);
  results.first_image_loaded_ms = stats(imageLoaded);
  if (paged.length) results.page_shown_paging_ms = stats(paged);
  results.page_pixels_wide = width;

  // Questions on the demo invoice, typed and sent with Enter, to the answer drawn.
  await s.exec("[...document.querySelectorAll('#documents li.doc[data-id]')].find(li => li.title.endsWith('invoice-northwind.pdf')).click()");
  await s.until("the invoice", () => s.exec("return document.querySelector('#doc-title').textContent === 'invoice-northwind.pdf'"));
  // A person looks at the page before asking; the app prepares for questions meanwhile.
  await new Promise((r) => setTimeout(r, 2000));
  const answered = [],
    answeredWall = [];
  for (let round = 0; round < 3; round++)
    for (const q of QUESTIONS) {
      await s.type("#question", q);
      const before = await s.exec("return window.__pagewise.ask.answered");
      const t0 = Date.now();
      await s.keys(KEY.enter);
      await s.until("the answer", () => s.exec(`return window.__pagewise.ask.answered !== ${before}`), 30000);
      answeredWall.push(Date.now() - t0);
      answered.push(await s.exec("const t = window.__pagewise.ask; return t.answered - t.asked"));
    }
  results.answer_shown_ms = stats(answered);
  results.answer_shown_wall_ms = stats(answeredWall);
  await s.close();
} finally {
  driver.stop();
}

const out = join(root, "target/bench-app.json");
writeFileSync(out, JSON.stringify(results, null, 2));
console.log("Pagewise desktop app (targets: cold start < 1500 ms, page shown < 150 ms, answer shown < 300 ms)");
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(30)} ${typeof v === "object" ? `median ${v.median}  p95 ${v.p95}  max ${v.max}  (n=${v.n})` : v}`);
console.log(`(written to ${out})`);

/// Cold start on a large library, and frame times while its list scrolls: steadily (three rows
/// a frame, as a trackpad does), and jumps to the middle and the end (the scroll bar dragged),
/// each until the rows there are loaded. Frame times are rAF intervals inside the app.
async function benchLargeLibrary(dir) {
  const driver = await Driver.launch({ log: join(root, "target/bench-app-driver.log"), env: { PAGEWISE_LIBRARY: dir } });
  const results = {};
  try {
    const cold = [],
      coldWall = [];
    let s;
    for (let i = 0; i < 3; i++) {
      if (s) await s.close();
      const t0 = Date.now();
      s = await driver.session(app);
      await s.until("ready", () => s.exec("return document.body.dataset.ready === 'true'"), 60000);
      coldWall.push(Date.now() - t0);
      cold.push(await s.exec("return window.__pagewise.coldStartMs"));
    }
    results.documents = await s.exec("return document.querySelector('#library-count').textContent");
    results.cold_start_ms = stats(cold);
    results.cold_start_wall_ms = stats(coldWall);
    results.rows_in_page = await s.exec("return document.querySelectorAll('#documents li.doc').length");
    // Steady scrolling: 600 frames, three rows each.
    await s.exec(`window.__scroll = null; const list = document.querySelector('#documents'); const gaps = []; let last = performance.now(), n = 0;
      const step = (t) => { gaps.push(t - last); last = t; list.scrollTop += 192; if (++n < 600) requestAnimationFrame(step); else window.__scroll = gaps.slice(1); };
      requestAnimationFrame(step);`);
    results.scroll_frame_ms = stats(await s.until("the scroll", () => s.exec("return window.__scroll"), 120000));
    results.rows_in_page_after_scroll = await s.exec("return document.querySelectorAll('#documents li.doc').length");
    // Jumps: to the middle and to the end, timed to the rows there shown loaded.
    const jumps = [];
    for (const at of [0.5, 0.25, 0.75, 1]) {
      await s.exec(`const l = document.querySelector('#documents'); window.__jump = performance.now(); l.scrollTop = ${at} * (l.scrollHeight - l.clientHeight);`);
      await s.until("rows loaded", () => s.exec("return document.querySelectorAll('#documents li.doc[data-id]').length > 0 && !document.querySelector('#documents li.doc.loading')"), 30000);
      jumps.push(await s.exec("return performance.now() - window.__jump"));
    }
    results.jump_to_loaded_rows_ms = stats(jumps);
    await s.close();
  } finally {
    driver.stop();
  }
  const out = join(root, "target/bench-app-library.json");
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`Pagewise desktop app on a large library (${dir})`);
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(30)} ${typeof v === "object" ? `median ${v.median}  p95 ${v.p95}  max ${v.max}  (n=${v.n})` : v}`);
  console.log(`(written to ${out})`);
}
