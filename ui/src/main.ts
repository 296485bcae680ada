import { listDocuments, search, type ErrorReport } from "./api";

const list = document.querySelector<HTMLUListElement>("#documents")!;
const status = document.querySelector<HTMLParagraphElement>("#status")!;
const box = document.querySelector<HTMLInputElement>("#search")!;

function item(title: string, meta: string): HTMLLIElement {
  const li = document.createElement("li");
  const t = document.createElement("div");
  t.textContent = title;
  const m = document.createElement("div");
  m.className = "meta";
  m.textContent = meta;
  li.append(t, m);
  return li;
}

async function showLibrary() {
  try {
    const docs = await listDocuments();
    list.replaceChildren(...docs.map((d) => item(d.name, `${d.pages} pages · ${d.kind}${d.ocr_pages ? ` · ${d.ocr_pages} read by OCR` : ""}${d.needs_reader_pages ? ` · ${d.needs_reader_pages} not read yet` : ""}`)));
    status.textContent = docs.length ? "" : "The library is empty: add documents with `pagewise add PATH…` (dragging files in comes with the full app).";
  } catch (e) {
    status.textContent = (e as ErrorReport).message ?? String(e);
  }
}

box.addEventListener("input", async () => {
  const q = box.value.trim();
  if (!q) return showLibrary();
  const hits = await search(q);
  list.replaceChildren(...hits.map((h) => item(`${h.name} — page ${h.page}`, h.snippet)));
  status.textContent = hits.length ? "" : `No page mentions “${q}”.`;
});

showLibrary();
