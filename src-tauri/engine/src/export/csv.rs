//! CSV per RFC 4180 (the `csv` crate): one row per document, a leading `file` column, one column
//! per field, optionally `<field>_page` and `<field>_confidence`. UTF-8; for Excel a BOM and `;`.
//! Cells that a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, tab, CR) get a
//! leading `'` so they show as text.

use crate::extract::Schema;
use crate::model::DocumentFields;

#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    /// `<field>_page` and `<field>_confidence` columns.
    pub with_evidence: bool,
    /// A byte-order mark and `;` between cells, as Excel in most locales expects.
    pub excel: bool,
}

/// Neutralise a cell a spreadsheet would read as a formula.
pub fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub fn to_csv(schema: &Schema, docs: &[DocumentFields], opts: CsvOptions) -> Vec<u8> {
    let mut out = Vec::new();
    if opts.excel {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(if opts.excel { b';' } else { b',' })
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let mut header = vec!["file".to_string()];
    for f in &schema.fields {
        header.push(f.name.clone());
        if opts.with_evidence {
            header.push(format!("{}_page", f.name));
            header.push(format!("{}_confidence", f.name));
        }
    }
    w.write_record(&header).expect("writing to memory");
    for d in docs {
        let mut row = vec![safe_cell(&d.name)];
        for f in &schema.fields {
            let v = d.fields.iter().find(|v| v.field == f.name);
            row.push(safe_cell(v.and_then(|v| v.value.as_deref()).unwrap_or("")));
            if opts.with_evidence {
                row.push(v.and_then(|v| v.page()).map(|p| p.to_string()).unwrap_or_default());
                row.push(v.filter(|v| v.value.is_some()).map(|v| format!("{:.2}", v.confidence)).unwrap_or_default());
            }
        }
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BBox, DocId};
    use crate::model::{Evidence, FieldValue, ValueSource};

    fn doc(name: &str, vendor: &str) -> DocumentFields {
        let ev =
            Evidence { page: 2, bbox: BBox::new(1.0, 2.0, 3.0, 4.0), source: "text-layer".into(), text: vendor.into() };
        let value = FieldValue {
            field: "vendor".into(),
            value: Some(vendor.into()),
            text: Some(vendor.into()),
            currency: None,
            confidence: 0.834,
            evidence: vec![ev],
            items: vec![],
            source: ValueSource::Extracted,
            reason: None,
        };
        DocumentFields {
            doc_id: DocId("x".into()),
            name: name.into(),
            schema: "receipt".into(),
            fields: vec![value],
            reused: 0,
            missing_required: vec![],
        }
    }

    #[test]
    fn formulas_are_neutralised_and_quotes_escaped() {
        let schema = Schema::load("receipt").unwrap();
        let csv = String::from_utf8(to_csv(
            &schema,
            &[doc("a.pdf", "=HYPERLINK(\"x\")"), doc("b, \"c\".pdf", "-1+2")],
            CsvOptions::default(),
        ))
        .unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "file,vendor,date,address,total");
        assert_eq!(lines[1], "a.pdf,\"'=HYPERLINK(\"\"x\"\")\",,,");
        assert_eq!(lines[2], "\"b, \"\"c\"\".pdf\",'-1+2,,,");
        for s in ["=1", "+1", "-1", "@x", "\tx", "\rx"] {
            assert!(safe_cell(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(safe_cell("12.50"), "12.50");
    }

    #[test]
    fn evidence_columns_and_excel_dialect() {
        let schema = Schema::load("receipt").unwrap();
        let csv = String::from_utf8(to_csv(
            &schema,
            &[doc("a.pdf", "Shop")],
            CsvOptions { with_evidence: true, excel: true },
        ))
        .unwrap();
        assert!(csv.starts_with('\u{feff}'));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert!(lines[0].starts_with("file;vendor;vendor_page;vendor_confidence;date"));
        assert!(lines[1].starts_with("a.pdf;Shop;2;0.83;"));
    }
}
