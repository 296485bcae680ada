import { describe, expect, it } from "vitest";
import type { DocumentFields } from "./bindings/DocumentFields";
import type { FieldValue } from "./bindings/FieldValue";
import { FieldsTable, cellText } from "./table";

const value = (field: string, v: string | null, confidence = 0.9, source: "extracted" | "user" = "extracted"): FieldValue => ({
  field,
  value: v,
  text: v,
  currency: field === "total" && v ? "EUR" : null,
  confidence,
  evidence: v ? [{ page: 1, bbox: [1, 2, 3, 4], source: "text-layer", text: v }] : [],
  items: [],
  source,
  reason: v ? null : "not found",
});

const doc = (id: string, fields: FieldValue[]): DocumentFields => ({ doc_id: id, name: `${id}.pdf`, schema: "invoice", fields, reused: 0, missing_required: fields.filter((f) => !f.value).map((f) => f.field) });

function table() {
  const t = new FieldsTable(["invoice_number", "total", "due_date"]);
  t.load([doc("a", [value("invoice_number", "INV-1"), value("total", "272.52"), value("due_date", null)]), doc("b", [value("invoice_number", "X9", 0.3)])]);
  return t;
}

describe("fields table", () => {
  it("shows values with their currency and marks missing and doubtful cells", () => {
    const t = table();
    expect(t.cell("a", "total").shown).toBe("272.52 EUR");
    expect(t.cell("a", "due_date").missing).toBe(true);
    expect(t.cell("b", "invoice_number").doubtful).toBe(true);
    // Sure enough at 0.9 (right 95 % of the time or more), to be checked just below it.
    expect(t.cell("a", "invoice_number").doubtful).toBe(false);
    t.load([doc("c", [value("invoice_number", "X9", 0.89)])]);
    expect(t.cell("c", "invoice_number").doubtful).toBe(true);
    expect(t.cell("b", "total").missing).toBe(true);
    expect(cellText(null)).toBe("");
  });
  it("sends an edit only when the value changed", () => {
    const t = table();
    expect(t.edit("a", "invoice_number", " INV-1 ")).toBeNull();
    expect(t.edit("a", "total", "272.52 EUR")).toBeNull();
    expect(t.edit("a", "total", "280.00")).toBe("280.00");
    expect(t.edit("a", "due_date", "2024-05-01")).toBe("2024-05-01");
  });
  it("keeps a correction as the person's, and the row no longer misses it", () => {
    const t = table();
    t.applyCorrection("a", value("due_date", "2024-05-01", 1, "user"));
    const c = t.cell("a", "due_date");
    expect(c.corrected).toBe(true);
    expect(c.doubtful).toBe(false);
    expect(t.rows[0].missing_required).toEqual([]);
  });
  it("counts what the table holds", () => {
    const t = table();
    expect(t.summary()).toEqual({ documents: 2, filled: 3, missing: 3, corrected: 0 });
  });
});
