// The fields table's model: one row per document, one column per schema field, edits kept as
// corrections. No DOM here (unit-tested in table.test.ts); fields.ts draws it.
import type { DocumentFields } from "./bindings/DocumentFields";
import type { FieldValue } from "./bindings/FieldValue";

export interface Cell {
  doc: string;
  field: string;
  shown: string;
  value: FieldValue | null;
  corrected: boolean;
  missing: boolean;
  /// Below this confidence a value is marked for a person to check.
  doubtful: boolean;
}

/// Values of the fitted models at this confidence or more were right at least 95 % of the time
/// (cross-validated on the training sets, docs/quality.md); the rest are marked for checking.
export const DOUBTFUL = 0.9;

export function cellText(v: FieldValue | null | undefined): string {
  if (!v || v.value == null) return "";
  return v.currency ? `${v.value} ${v.currency}` : v.value;
}

export class FieldsTable {
  rows: DocumentFields[] = [];
  constructor(public fields: string[]) {}

  /// Rows replaced by a run's results (a rerun keeps the order documents were given in).
  load(docs: DocumentFields[]) {
    this.rows = docs;
  }

  cell(doc: string, field: string): Cell {
    const row = this.rows.find((r) => r.doc_id === doc);
    const value = row?.fields.find((f) => f.field === field) ?? null;
    const corrected = value?.source === "user";
    return {
      doc,
      field,
      shown: cellText(value),
      value,
      corrected,
      missing: !value || value.value == null,
      doubtful: !!value && value.value != null && !corrected && value.confidence < DOUBTFUL,
    };
  }

  /// What an edit should send to the shell: null when nothing changed.
  edit(doc: string, field: string, typed: string): string | null {
    const text = typed.trim();
    const cell = this.cell(doc, field);
    if (text === cell.shown || (cell.value?.value ?? "") === text) return null;
    return text;
  }

  /// Put the shell's stored correction into the table.
  applyCorrection(doc: string, value: FieldValue) {
    const row = this.rows.find((r) => r.doc_id === doc);
    if (!row) return;
    const at = row.fields.findIndex((f) => f.field === value.field);
    if (at >= 0) row.fields[at] = value;
    else row.fields.push(value);
    row.missing_required = (row.missing_required ?? []).filter((f) => f !== value.field || value.value == null);
  }

  /// Counts for the table's footer.
  summary(): { documents: number; filled: number; missing: number; corrected: number } {
    let filled = 0,
      missing = 0,
      corrected = 0;
    for (const r of this.rows)
      for (const f of this.fields) {
        const c = this.cell(r.doc_id, f);
        if (c.missing) missing++;
        else filled++;
        if (c.corrected) corrected++;
      }
    return { documents: this.rows.length, filled, missing, corrected };
  }
}
