// Fields: choose a schema (a preset or a TOML file), run it over the selected documents (all
// when none is ticked) with a progress bar, see the values in a table (a click shows the value's
// evidence on its page), edit a value (kept as a correction), and export CSV or JSON.
import { api } from "./api";
import type { SchemaView } from "./bindings/SchemaView";
import { $, errorText, h } from "./dom";
import * as jobs from "./jobs";
import * as models from "./models";
import { allIds } from "./listing";
import { loaded, on, open, state } from "./state";
import { FieldsTable } from "./table";

let schemas: SchemaView[] = [];
let table: FieldsTable | null = null;
let schema: SchemaView | null = null;

function note(text: string, tone = "") {
  const el = $("#fields-note");
  el.textContent = text;
  el.className = `note ${tone}`;
}

function renderSchemas() {
  const select = $<HTMLSelectElement>("#schema");
  select.replaceChildren(...schemas.map((s) => h("option", { value: s.spec, selected: s.spec === schema?.spec }, s.spec.includes("/") || s.spec.includes("\\") ? `${s.name} (${s.spec.split(/[\\/]/).pop()})` : s.name)));
  $("#schema-about").textContent = schema ? `${schema.description} ${schema.fields.length} fields: ${schema.fields.map((f) => f.name + (f.required ? "*" : "")).join(", ")}` : "";
}

function choose(spec: string) {
  schema = schemas.find((s) => s.spec === spec) ?? null;
  table = schema ? new FieldsTable(schema.fields.map((f) => f.name)) : null;
  renderSchemas();
  renderTable();
}

function renderTable() {
  const wrap = $("#fields-table");
  if (!table || !schema || !table.rows.length) {
    wrap.replaceChildren(h("p.empty", {}, state.documents.length ? "Choose a schema and press Run to fill in its fields for your documents." : "Add documents first (drop them on the window), then run a schema here."));
    $("#fields-summary").textContent = "";
    return;
  }
  const t = table;
  const head = h("tr", {}, h("th", {}, "Document"), ...t.fields.map((f) => h("th", {}, f)));
  const rows = t.rows.map((r) =>
    h(
      "tr",
      { dataset: { doc: r.doc_id } },
      h("th.doc-name", { title: r.name }, r.name, r.missing_required?.length ? h("span.badge.warn", { title: `No value for ${r.missing_required.join(", ")}` }, "check") : null),
      ...t.fields.map((f) => {
        const c = t.cell(r.doc_id, f);
        const td = h(
          "td",
          {
            tabindex: 0,
            dataset: { field: f },
            class: [c.corrected ? "corrected" : "", c.missing ? "missing" : "", c.doubtful ? "doubtful" : ""].join(" ").trim(),
            title: c.value ? `${c.corrected ? "corrected by you" : `${Math.round(c.value.confidence * 100)}% sure`}${c.value.evidence[0] ? ` · page ${c.value.evidence[0].page}` : ""}${c.value.reason ? ` · ${c.value.reason}` : ""} — double-click to edit` : "",
          },
          c.shown || "—",
        );
        td.addEventListener("click", () => showCell(r.doc_id, f));
        td.addEventListener("dblclick", () => edit(td, r.doc_id, f));
        td.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === "F2") edit(td, r.doc_id, f);
        });
        return td;
      }),
    ),
  );
  wrap.replaceChildren(h("table.fields", {}, h("thead", {}, head), h("tbody", {}, ...rows)));
  const s = t.summary();
  $("#fields-summary").textContent = `${s.documents} documents · ${s.filled} values · ${s.missing} missing · ${s.corrected} corrected`;
}

function showCell(doc: string, field: string) {
  const c = table?.cell(doc, field);
  const d = loaded(doc);
  if (!c?.value || !d || !c.value.evidence.length) return;
  open(d, c.value.evidence[0].page, c.value.evidence);
}

function edit(td: HTMLElement, doc: string, field: string) {
  if (!table || !schema) return;
  const t = table,
    spec = schema.spec;
  const input = h("input.cell-edit", { value: t.cell(doc, field).value?.value ?? "" });
  td.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const commit = async (save: boolean) => {
    if (done) return;
    done = true;
    const value = save ? t.edit(doc, field, input.value) : null;
    if (value !== null) {
      try {
        t.applyCorrection(doc, await api.correct(doc, spec, field, value));
        note(`${field} corrected; kept when the schema runs again.`, "ok");
      } catch (e) {
        note(errorText(e), "bad");
      }
    }
    renderTable();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") commit(true);
    if (e.key === "Escape") commit(false);
    e.stopPropagation();
  });
  input.addEventListener("blur", () => commit(true));
}

async function targets(): Promise<string[]> {
  return state.selected.size ? [...state.selected] : allIds();
}

export async function run() {
  if (!schema || !table) return;
  const ids = await targets();
  if (!ids.length) return note("The library is empty: add documents first.", "bad");
  const t = table;
  const job = jobs.startJob(`${schema.name} fields of ${ids.length} document${ids.length === 1 ? "" : "s"}`);
  const bar = $<HTMLProgressElement>("#fields-progress");
  bar.hidden = false;
  bar.max = ids.length;
  bar.value = 0;
  note("Running…");
  try {
    const vlm = $<HTMLSelectElement>("#fields-engine").value === "vlm";
    const res = await api.extract(ids, schema.spec, vlm, models.precision(), job.id, (p) => {
      jobs.track(job, p);
      if (p.event === "extracted") bar.value = p.data.index + 1;
    });
    t.load(res.documents);
    note(res.failed.length ? `${res.failed.length} document(s) failed: ${res.failed.map((f) => f.error.message).join("; ")}` : `Done: ${res.documents.length} documents.`, res.failed.length ? "bad" : "ok");
    jobs.finish(job);
  } catch (e) {
    note(errorText(e), "bad");
    jobs.finish(job, errorText(e));
  } finally {
    bar.hidden = true;
  }
  renderTable();
}

async function exportAs(format: "csv" | "json") {
  if (!schema || !table?.rows.length) return note("Run the schema first.", "bad");
  try {
    const path = await api.export(table.rows.map((r) => r.doc_id), schema.spec, format, $<HTMLInputElement>("#with-evidence").checked);
    if (path) note(`Saved ${path}`, "ok");
  } catch (e) {
    note(errorText(e), "bad");
  }
}

export async function mount() {
  $("#schema").addEventListener("change", (e) => choose((e.target as HTMLSelectElement).value));
  $("#open-schema").addEventListener("click", async () => {
    try {
      const s = await api.pickSchema();
      if (!s) return;
      schemas = [...schemas.filter((x) => x.spec !== s.spec), s];
      choose(s.spec);
      note(`Schema ${s.name} loaded.`, "ok");
    } catch (e) {
      note(errorText(e), "bad");
    }
  });
  $("#run-fields").addEventListener("click", run);
  $("#export-csv").addEventListener("click", () => exportAs("csv"));
  $("#export-json").addEventListener("click", () => exportAs("json"));
  on("documents", () => table?.rows.length || renderTable());
  try {
    schemas = await api.schemas();
    choose(schemas[0]?.spec ?? "");
  } catch (e) {
    note(errorText(e), "bad");
  }
}
