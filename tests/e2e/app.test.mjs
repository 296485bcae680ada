// End-to-end tests of the real desktop app: the built pagewise-app binary, driven through
// tauri-driver and WebKitWebDriver under Xvfb, as a person uses it. Each scenario saves a
// screenshot to $PAGEWISE_SCREENSHOTS (default target/e2e-screenshots).
//
// The "Add…" and "Save" dialogs are native GTK windows that WebDriver cannot click; the app
// answers them from PAGEWISE_PICK / PAGEWISE_SAVE_TO (see src-tauri/src/dialogs.rs). The
// import, reading, asking, extraction and export behind them are the real ones.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFile, execFileSync } from "node:child_process";
import { delimiter, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Driver, KEY } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = process.env.PAGEWISE_APP;
const shots = process.env.PAGEWISE_SCREENSHOTS ?? join(root, "target/e2e-screenshots");
const work = mkdtempSync(join(tmpdir(), "pagewise-e2e-"));
const corrupt = join(work, "broken-invoice.pdf");
// A file that makes the worker opening it crash, as a segfault in pdfium would (the workers'
// test hook: engine worker/bounds.rs). The app must go on; the file is reported failed.
const crashMarker = "PAGEWISE-E2E-CRASH-MARKER";
const crasher = join(work, "crashes-its-reader.pdf");
const csv = join(work, "fields.csv");
// A folder among the picked paths, empty at first: an encrypted PDF is put in it later and
// picked again, to be opened with the password entered in the library list.
const lockedDir = join(work, "locked");
const hasQpdf = (() => {
  try {
    return execFileSync("qpdf", ["--version"]).length > 0;
  } catch {
    return false;
  }
})();
// What tauri-driver and WebKitWebDriver said, beside the screenshots.
const driverLog = join(shots, "tauri-driver.log");

let driver, s;
// Whether the tiny PaddleOCR-VL was imported (where no real one was installed before).
let readerImported = false;

async function shot(name) {
  await s.screenshot(join(shots, `${name}.png`));
}

describe("the desktop app", { skip: !app && "PAGEWISE_APP is not set (the app binary to drive)" }, () => {
  before(async () => {
    mkdirSync(shots, { recursive: true });
    writeFileSync(corrupt, "%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage, no xref, no trailer\n");
    mkdirSync(lockedDir);
    writeFileSync(crasher, Buffer.concat([readFileSync(join(root, "assets/demo/invoice-northwind.pdf")), Buffer.from(`\n%${crashMarker}\n`)]));
    driver = await Driver.launch({
      env: {
        PAGEWISE_LIBRARY: join(work, "library"),
        // The web view keeps its local storage (zoom, layers shown) under XDG_DATA_HOME: a fresh
        // one, so a setting left by an earlier run or by someone using the app changes nothing.
        XDG_DATA_HOME: join(work, "data"),
        XDG_CACHE_HOME: join(work, "cache"),
        PAGEWISE_PICK: [join(root, "assets/demo"), corrupt, crasher, lockedDir].join(delimiter),
        PAGEWISE_WORKER_TEST_HOOK: `crash:${crashMarker}`,
        PAGEWISE_SAVE_TO: csv,
        // The tiny random checkpoints of the parity tests stand in for the real models.
        PAGEWISE_PICK_MODEL: [join(root, "tests/fixtures/vlm/qwen3-vl-tiny"), join(root, "tests/fixtures/vlm/paddleocr-vl-tiny")].join(delimiter),
      },
      log: driverLog,
    });
    s = await driver.session(app);
    await s.until("the window to be ready", () => s.exec("return document.body.dataset.ready === 'true'"), 30000);
  });

  after(async () => {
    await s?.close();
    driver?.stop();
  });

  it("starts on an empty library that says what to do", async () => {
    assert.match(await s.text("#library-empty"), /Drag PDFs, scans or photos/);
    await shot("01-empty-library");
  });

  it("imports picked files; a corrupt one and one that crashes its reader show their reasons, the others import", async () => {
    await s.click("#add-files");
    await s.until("three documents", async () => (await s.findAll("#documents li.doc[data-id]")).length === 3, 120000);
    const failed = await s.until("the failed files", async () => {
      const items = await s.findAll("#documents li.doc.failed");
      return items.length === 2 && s.exec("return [...document.querySelectorAll('#documents li.doc.failed')].map(e => e.textContent)");
    });
    const [broken, crashed] = ["broken-invoice", "crashes-its-reader"].map((name) => failed.find((t) => t.includes(name)));
    assert.match(broken, /damaged|not a valid/);
    assert.match(crashed, /reader stopped.*segmentation fault/);
    const names = await s.exec("return [...document.querySelectorAll('#documents li.doc[data-id] .name')].map(e => e.textContent)");
    assert.deepEqual([...names].sort(), ["invoice-northwind.pdf", "photo-of-a-receipt.jpg", "two-column-article.pdf"]);
    // The thumbnails come through the page: protocol.
    await s.until("thumbnails", () => s.exec("return [...document.querySelectorAll('#documents img.thumb')].every(i => i.complete && i.naturalWidth > 0)"));
    await shot("02-imported");
  });

  it("opens a document and pages through it", async () => {
    const item = "#documents li.doc[data-id][title$='two-column-article.pdf']";
    const id = await s.exec(`return document.querySelector("${item}").dataset.id`);
    await s.click(item);
    const shown = (page) => s.exec(`return document.querySelector('#sheet').dataset.shown === '${id}/${page}'`);
    await s.until("page 1 shown", () => shown(1));
    assert.equal(await s.exec("return document.querySelector('#page-count').textContent"), "/ 3");
    assert.ok(await s.exec("const i = document.querySelector('#page-img'); return i.naturalWidth > 300"));
    await s.exec("document.activeElement.blur()");
    await s.keys(KEY.right);
    await s.until("page 2 shown", () => shown(2));
    assert.equal(await s.exec("return document.querySelector('#page-no').value"), "2");
    await s.keys(KEY.left);
    await s.until("page 1 again", () => shown(1));
  });

  it("draws layout regions, reading order and words, and shows a region's text on click", async () => {
    const regions = await s.until("layout regions", async () => (await s.findAll("#overlay .region")).length);
    assert.ok(regions >= 3, `${regions} regions`);
    await s.click("#layer-order");
    await s.click("#layer-words");
    assert.ok((await s.findAll("#overlay .region .order")).length === regions);
    assert.ok((await s.findAll("#overlay .word")).length > 50);
    assert.ok((await s.text("#legend")).includes("Text"));
    // Click the biggest text region: its text appears in the side panel.
    await s.exec("const r = [...document.querySelectorAll('#overlay .region[data-label=Text]')].sort((a,b) => b.offsetHeight - a.offsetHeight)[0]; const b = r.getBoundingClientRect(); r.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: b.left + b.width / 2, clientY: b.top + b.height / 2}))");
    const text = await s.until("region details", () => s.exec("const p = document.querySelector('#region'); return !p.hidden && p.textContent"));
    assert.match(text, /Text/);
    await shot("03-layout-overlays");
    await s.click("#layer-words");
    await s.click("#layer-order");
  });

  it("shows a photographed receipt straightened, and the photo as shot on request", async () => {
    const item = "#documents li.doc[data-id][title$='photo-of-a-receipt.jpg']";
    const id = await s.exec(`return document.querySelector("${item}").dataset.id`);
    await s.click(item);
    await s.until("the receipt shown", () => s.exec(`return document.querySelector('#sheet').dataset.shown === '${id}/1'`));
    assert.equal(await s.exec("return document.querySelector('#original-toggle').hidden"), false, "the page was found in the photo");
    const image = () => s.exec("const i = document.querySelector('#page-img'); return i.complete ? [i.getAttribute('src'), i.naturalWidth, i.naturalHeight] : null");
    const [, pw, ph] = await image();
    assert.ok((await s.findAll("#overlay .region")).length > 0, "the straightened page has its layout drawn");
    await s.click("#show-original");
    const [src, w, h] = await s.until("the photo shown", async () => {
      const i = await image();
      return i && i[0].includes("/o/") && i[1] > 0 && i;
    });
    assert.match(src, new RegExp(`/o/${id}/1`));
    assert.ok(Math.abs(h / w - ph / pw) > 0.02, `the photo (${w} x ${h}) is not the page's shape (${pw} x ${ph})`);
    assert.equal((await s.findAll("#overlay .region")).length, 0, "no boxes over the photo: they are the page's");
    await shot("03b-photo-as-shot");
    await s.click("#show-original");
    await s.until("the straightened page again", async () => (await image())?.[0].includes("/p/") && (await s.findAll("#overlay .region")).length > 0);
  });

  it("finds pages by search, and a hit opens its page", async () => {
    await s.type("#search", "stapler heavy");
    const hit = await s.until("a search hit", () => s.exec("const h = document.querySelector('#hits li.hit'); return h && !document.querySelector('#hits').hidden && h.textContent"));
    assert.match(hit, /invoice-northwind\.pdf · page 1/);
    assert.match(hit, /Stapler/i);
    await s.click("#hits li.hit");
    await s.until("the invoice opened", () => s.exec("return document.querySelector('#doc-title').textContent === 'invoice-northwind.pdf'"));
    await s.exec("const b = document.querySelector('#search'); b.value = ''; b.dispatchEvent(new Event('input'))");
  });

  it("shows a table region as a grid", async () => {
    await s.until("the invoice's regions", async () => (await s.findAll("#overlay .region[data-label=Table]")).length === 1);
    await s.exec("const r = document.querySelector('#overlay .region[data-label=Table]'); const b = r.getBoundingClientRect(); r.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: b.left + 5, clientY: b.top + 5}))");
    const cells = await s.until("the grid", () => s.exec("return [...document.querySelectorAll('#region table.grid th, #region table.grid td')].map(c => c.textContent)"));
    assert.ok(cells.includes("Description") && cells.includes("Stapler, heavy duty") && cells.includes("48.00"), JSON.stringify(cells));
    await shot("04-table-grid");
  });

  it("answers a question and highlights the evidence on the page", async () => {
    await s.click("#documents li.doc[data-id][title$='invoice-northwind.pdf']");
    await s.until("the invoice shown", () => s.exec("return document.querySelector('#doc-title').textContent === 'invoice-northwind.pdf' && !!document.querySelector('#sheet').dataset.shown"));
    await s.type("#question", "What is the total?");
    await s.keys(KEY.enter);
    const answer = await s.until("an answer", () => s.exec("const a = document.querySelector('#answer .answer-text'); return a && a.textContent"));
    assert.match(answer, /272\.52/);
    const box = await s.until("a highlight", () => s.exec("const e = document.querySelector('#overlay .evidence'); return e && [e.offsetWidth, e.offsetHeight]"));
    assert.ok(box[0] > 5 && box[1] > 3, `highlight ${box}`);
    assert.match(await s.text("#history"), /What is the total\?/);
    await shot("05-answer-highlighted");
  });

  it("runs a schema, shows the values, keeps an edit as a correction and exports CSV", async () => {
    await s.click("nav button[data-view=fields]");
    assert.equal(await s.exec("return document.querySelector('#schema').value"), "invoice");
    await s.click("#run-fields");
    await s.until("the fields table", async () => (await s.findAll("table.fields tbody tr")).length === 3, 60000);
    const total = await s.text("table.fields tr[data-doc] td[data-field=total]");
    assert.ok((await s.exec("return [...document.querySelectorAll('table.fields td[data-field=total]')].map(t => t.textContent)")).some((t) => t.includes("272.52")), total);
    // Edit the invoice's number.
    const cell = "table.fields tr:has(th[title='invoice-northwind.pdf']) td[data-field=invoice_number]";
    await s.exec(`document.querySelector("${cell}").dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))`);
    // The editor opens focused with its text selected: typing replaces it.
    await s.wait(`${cell} input`);
    await s.keys("NW-CORRECTED-1" + KEY.enter);
    await s.until("the corrected cell", () => s.exec(`const c = document.querySelector("${cell}"); return c && c.classList.contains('corrected') && c.textContent.includes('NW-CORRECTED-1')`));
    await shot("06-fields-table");
    await s.click("#export-csv");
    await s.until("the export", () => s.exec("return document.querySelector('#fields-note').textContent.startsWith('Saved')"));
    const out = readFileSync(csv, "utf8");
    const [header, ...rows] = out.trim().split(/\r?\n/);
    assert.match(header, /^file,vendor,invoice_number,date,due_date,total,/);
    assert.equal(rows.length, 3);
    assert.ok(rows.some((r) => r.startsWith("invoice-northwind.pdf,") && r.includes(",NW-CORRECTED-1,") && r.includes("272.52")), out);
  });

  it("clicking a value shows its evidence on its page", async () => {
    await s.exec("document.querySelector(\"table.fields tr:has(th[title='invoice-northwind.pdf']) td[data-field=total]\").click()");
    await s.until("the read view with a highlight", () => s.exec("return !document.querySelector('#view-read').hidden && !!document.querySelector('#overlay .evidence')"));
  });

  const readAgain = (reader) => s.exec(`document.querySelector('#read-said').replaceChildren(); document.querySelector('#reader').value = '${reader}'; document.querySelector('#read-again').click();`);

  const askVisual = () =>
    s.exec("document.querySelector('#engine').value = 'vlm'; document.querySelector('#question').value = 'What is the total?'; document.querySelector('#ask-form').requestSubmit();");

  it("lists jobs with their errors, and the models", async () => {
    await s.click("nav button[data-view=jobs]");
    const jobs = await s.text("#jobs-list");
    assert.match(jobs, /broken-invoice\.pdf/);
    assert.match(jobs, /crashes-its-reader\.pdf/);
    assert.match(jobs, /invoice fields of 3 documents/);
    await shot("07-jobs");
    await s.click("nav button[data-view=models]");
    const models = await s.until("the models table", () => s.exec("return document.querySelectorAll('table.models tbody tr').length"));
    assert.ok(models >= 5);
    assert.match(await s.text("table.models"), /ocr-rec|embed/);
    // The optional vision-language models, with the command that downloads them.
    const qwen = await s.exec("return document.querySelector('tr[data-model=\"qwen3-vl-2b-instruct\"]').textContent");
    assert.match(qwen, /not downloaded[\s\S]*pagewise models get qwen3-vl-2b-instruct|installed/);
    await shot("08-models");
    if (/not downloaded/.test(qwen)) {
      // Asking the vision-language answerer without its model says how to get it.
      await s.click("nav button[data-view=read]");
      await askVisual();
      const said = await s.until("the missing-model message", () => s.exec("const e = document.querySelector('#answer .error'); return e && e.textContent"));
      assert.match(said, /pagewise models get qwen3-vl-2b-instruct/);
      await shot("09-vlm-missing");
      // So does reading a page again with PaddleOCR-VL.
      await readAgain("vlm");
      const missing = await s.until("the missing-reader message", () => s.exec("const e = document.querySelector('#read-said .bad'); return e && e.textContent"));
      assert.match(missing, /pagewise models get paddleocr-vl/);
      // Import the model folders (Qwen3-VL and PaddleOCR-VL), verify one, ask it (its words are
      // checked against the page), and remove it; the reader is used and removed below.
      await s.click("nav button[data-view=models]");
      // The view draws itself again when shown: click once its table is there.
      await s.until("the import button", () => s.exec("return !!document.querySelector('tr[data-model=\"qwen3-vl-2b-instruct\"]') && !!document.querySelector('#import-model')"));
      await s.exec("document.querySelector('#import-model').click()");
      await s.until("the imported models", () => s.exec("return ['qwen3-vl-2b-instruct', 'paddleocr-vl'].every((m) => /installed/.test(document.querySelector(`tr[data-model=\"${m}\"]`).textContent))"));
      readerImported = true;
      await s.exec("document.querySelector('tr[data-model=\"qwen3-vl-2b-instruct\"] button').click()");
      const verified = await s.until("the verification", () => s.exec("const e = document.querySelector('#models-said'); return /match their checksums|differ|missing/.test(e.textContent) && e.textContent"));
      assert.match(verified, /all \d+ files match their checksums/);
      await s.click("nav button[data-view=read]");
      await askVisual();
      const card = await s.until("the model's checked answer", () => s.exec("const e = document.querySelector('#answer .checks'); return e && e.textContent"), 60000);
      assert.match(card, /qwen3-vl-2b-instruct, \d+ tokens/);
      await shot("10-vlm-answer");
      // The schema run with Qwen3-VL answering each field (random weights: few values found,
      // each checked against the page; what matters here is that every document goes through).
      await s.click("nav button[data-view=fields]");
      await s.exec("document.querySelector('#fields-engine').value = 'vlm'; document.querySelector('#run-fields').click();");
      const run = await s.until("the visual schema run", () => s.exec("const n = document.querySelector('#fields-note'); return /^(Done|.*failed)/.test(n.textContent) && n.textContent"), 120000);
      assert.match(run, /^Done: 3 documents\./);
      await s.exec("document.querySelector('#fields-engine').value = 'extractive';");
      await s.click("nav button[data-view=models]");
      await s.exec("window.confirm = () => true; [...document.querySelectorAll('tr[data-model=\"qwen3-vl-2b-instruct\"] button')].find((b) => b.textContent === 'Remove').click()");
      await s.until("the model removed", () => s.exec("return /not downloaded/.test(document.querySelector('tr[data-model=\"qwen3-vl-2b-instruct\"]').textContent)"));
      await s.exec("document.querySelector('#engine').value = 'extractive'; document.querySelector('#question').value = '';");
    }
    // The README's screenshot: the invoice with its layout and the answer.
    await s.click("nav button[data-view=read]");
    await s.type("#question", "What is the total?");
    await s.keys(KEY.enter);
    await s.until("the answer again", () => s.exec("return !!document.querySelector('#overlay .evidence')"));
    await shot("readme");
  });

  it("reads a page again with PaddleOCR-VL (its words checked against the page) and with OCR", async () => {
    await s.click("nav button[data-view=read]");
    await s.click("#documents li.doc[data-id][title$='photo-of-a-receipt.jpg']");
    await s.until("the photo shown", () => s.exec("return document.querySelector('#doc-title').textContent === 'photo-of-a-receipt.jpg' && !!document.querySelector('#sheet').dataset.shown"));
    assert.equal(await s.text("#page-source"), "Words read by OCR");
    if (readerImported) {
      // Read at the 8-bit setting of the Models panel.
      await s.click("nav button[data-view=models]");
      await s.until("the precision choice", () => s.exec("return !!document.querySelector('#precision')"));
      await s.exec("const p = document.querySelector('#precision'); p.value = 'q8'; p.dispatchEvent(new Event('change'));");
      await s.click("nav button[data-view=read]");
      await readAgain("vlm");
      const said = await s.until("the VLM reading", () => s.exec("const e = document.querySelector('#read-said .note'); return e && !/^Read(ing| region)/.test(e.textContent) && e.textContent"), 120000);
      // Random weights write random words: the page's OCR reading confirms few, and says which are not on the page.
      assert.match(said, /^Read by PaddleOCR-VL: \d+ words in \d+ lines from \d+ regions; \d+ of \d+ words confirmed by the page's OCR reading/);
      await s.until("the page's new source", async () => (await s.text("#page-source")) === "Words read by PaddleOCR-VL");
      assert.match(await s.exec("return document.querySelector('#jobs-list').textContent"), /Reading photo-of-a-receipt\.jpg page 1 with PaddleOCR-VL/);
      await shot("11-read-by-vlm");
    }
    await readAgain("ocr");
    const said = await s.until("the OCR reading", () => s.exec("const e = document.querySelector('#read-said .note'); return e && /^Read by/.test(e.textContent) && e.textContent"), 120000);
    const words = Number(said.match(/^Read by OCR: (\d+) words/)?.[1]);
    assert.ok(words > 20, said);
    await s.until("the page read by OCR again", async () => (await s.text("#page-source")) === "Words read by OCR");
    if (readerImported) {
      await s.click("nav button[data-view=models]");
      await s.until("the reader's row", () => s.exec("return !!document.querySelector('tr[data-model=\"paddleocr-vl\"] button')"));
      await s.exec("window.confirm = () => true; [...document.querySelectorAll('tr[data-model=\"paddleocr-vl\"] button')].find((b) => b.textContent === 'Remove').click()");
      await s.until("the reader removed", () => s.exec("return /not downloaded/.test(document.querySelector('tr[data-model=\"paddleocr-vl\"]').textContent)"));
      assert.equal(await s.exec("return document.querySelector('#precision').value"), "q8", "the setting is kept");
      await s.exec("const p = document.querySelector('#precision'); p.value = 'f32'; p.dispatchEvent(new Event('change'));");
      await s.click("nav button[data-view=read]");
    }
  });

  it("reaches no other origin and navigates nowhere (CSP and the navigation guard)", async () => {
    // A local server stands for the Internet: without the CSP a fetch would reach it.
    const { createServer } = await import("node:http");
    let hits = 0;
    const server = createServer((req, res) => { hits += 1; res.end("reached"); });
    await new Promise((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${server.address().port}/leak`;
    try {
      await s.exec(`window.__net = 'pending'; fetch(arguments[0]).then(() => { window.__net = 'fetched'; }, (e) => { window.__net = 'refused'; });`, url);
      await s.until("the fetch to settle", async () => (await s.exec("return window.__net")) !== "pending");
      assert.equal(await s.exec("return window.__net"), "refused");
      await s.exec(`location.href = arguments[0];`, url);
      await new Promise((done) => setTimeout(done, 500));
      assert.match(await s.exec("return location.href"), /^(tauri:\/\/localhost|https?:\/\/tauri\.localhost)/);
      assert.equal(hits, 0, "the web view reached the local server");
    } finally {
      server.close();
    }
  });

  it("shares its open library with CLI imports and searches running beside it", async () => {
    // The app keeps its library open; six `pagewise` processes import into it and three
    // search it, all at once (the CLI is built beside the app).
    const cli = join(dirname(app), "pagewise");
    const run = (...args) => promisify(execFile)(cli, ["--library", join(work, "library"), "--json", ...args]);
    const batch = mkdtempSync(join(work, "cli-"));
    const files = [0, 1, 2, 3, 4, 5].map((i) => {
      const file = join(batch, `cli-${i}.pdf`);
      // The demo invoice with a distinct comment at its end: six new documents.
      writeFileSync(file, Buffer.concat([readFileSync(join(root, "assets/demo/invoice-northwind.pdf")), Buffer.from(`\n%cli ${i}\n`)]));
      return file;
    });
    const searches = ["invoice", "total", "Northwind"].map((q) => run("search", q));
    const results = await Promise.all([...files.map((f) => run("add", f)), ...searches]);
    for (const { stdout } of results.slice(0, 6)) assert.match(stdout, /"status":"added"/);
    await s.click("nav button[data-view=read]");
    // The app looks at its library again every few seconds: the CLI's documents appear.
    await s.until("the CLI's documents listed", async () => (await s.findAll("#documents li.doc[data-id]")).length === 9, 30000);
    const listed = JSON.parse((await run("list")).stdout);
    assert.equal(listed.length ?? listed.documents?.length, 9);
  });

  it("opens an encrypted PDF with the password entered in its row of the list", { skip: !hasQpdf && "qpdf is absent (the set-up installs it)" }, async () => {
    const locked = join(lockedDir, "locked-invoice.pdf");
    execFileSync("qpdf", ["--encrypt", "Zq7-app-passphrase", "owner-pw", "256", "--", join(root, "assets/demo/two-column-article.pdf"), locked]);
    await s.click("nav button[data-view=read]");
    await s.click("#add-files");
    const row = "#documents li.doc.failed:has(form.unlock)";
    const said = () => s.exec(`const r = document.querySelector("${row}"); return r && r.textContent`);
    assert.match(await s.until("the row asking for a password", said, 60000), /locked-invoice\.pdf[\s\S]*needs a password/);
    await shot("11-password-asked");
    const enter = async (password) => {
      await s.exec(`document.querySelector("${row} input").scrollIntoView()`);
      await s.type(`${row} input`, password);
      assert.equal(await s.exec(`return document.querySelector("${row} input").value`), password);
      await s.exec(`document.querySelector("${row} form").requestSubmit()`);
    };
    await enter("not-the-password");
    await s
      .until("wrong password said", async () => /wrong password/.test((await said()) ?? ""), 60000)
      .catch(async (e) => assert.fail(`${e.message}: the row says ${JSON.stringify(await said())}`));
    // Counted before the password goes in: the import may finish before the next command.
    const total = parseInt(await s.exec("return document.querySelector('#library-count').textContent"), 10);
    await enter("Zq7-app-passphrase");
    // At least one more: the library is re-read every few seconds, and may list others' imports too.
    const count = async () => parseInt(await s.exec("return document.querySelector('#library-count').textContent"), 10);
    await s.until("the document imported", async () => (await said()) === null && (await count()) >= total + 1, 120000);
    // Its pages draw in this session (the password is kept, in the keyring or for the session).
    const item = "#documents li.doc[data-id][title$='locked-invoice.pdf']";
    // Clicked from the page itself, as the list is virtual (the row may be below the fold).
    await s.exec(`document.querySelector("${item}").click()`);
    const page = "const i = document.querySelector('#page-img'); return [document.querySelector('#doc-title').textContent, i.complete, i.naturalWidth, document.querySelector('#sheet').dataset.shown, document.querySelector('#page-error')?.textContent ?? ''];";
    await s.until("its page drawn", async () => {
      const [title, complete, width] = await s.exec(page);
      return title === "locked-invoice.pdf" && complete && width > 100;
    }, 60000).catch(async (e) => assert.fail(`${e.message}: ${JSON.stringify(await s.exec(page))}`));
    await shot("12-password-opened");
  });

  it("removes a document from the library after a second click", async () => {
    const item = "#documents li.doc[data-id][title$='two-column-article.pdf']";
    const count = (await s.findAll("#documents li.doc[data-id]")).length;
    // Clicked from the page itself: the list is virtual, and the row may be below the fold.
    const press = () => s.exec(`document.querySelector("${item} button.remove").click()`);
    await press();
    assert.equal(await s.exec(`return document.querySelector("${item} button.remove").textContent`), "Remove?");
    await press();
    await s.until("one document fewer", async () => (await s.findAll("#documents li.doc[data-id]")).length === count - 1);
    // The document still open is untouched.
    assert.notEqual(await s.exec("return document.querySelector('#doc-title').textContent"), "two-column-article.pdf");
  });
});

