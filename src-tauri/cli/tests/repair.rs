//! Repair before giving up: PDFs that pdfium refuses (a trailer whose catalog points nowhere, a
//! trailer turned to garbage) are repaired into a copy and read from it; the original is kept
//! as it came, the pages draw from the copy, and removing the document removes both.

mod common;

use common::Lib;
use pagewise_testkit::{article, pdfium_available};

/// The article with its trailer broken in one of two ways pdfium does not recover from.
fn broken(how: &str) -> Vec<u8> {
    let pdf = article(2, 11);
    let at = pdf.windows(7).rposition(|w| w == b"trailer").expect("a trailer");
    let mut out = pdf[..at].to_vec();
    match how {
        "lost-catalog" => {
            let trailer = String::from_utf8_lossy(&pdf[at..]).replace("/Root 1 0 R", "/Root 999 0 R");
            out.extend_from_slice(trailer.as_bytes());
        }
        _ => out.extend_from_slice(b"trailer\n<< /Size 3 /Root 1 0 R /Info (((( >>\nstartxref\n0\n%%EOF\n"),
    }
    out
}

#[test]
fn pdfs_pdfium_refuses_are_repaired_into_a_copy() {
    if !pdfium_available("pdfs_pdfium_refuses_are_repaired_into_a_copy") {
        return;
    }
    for how in ["lost-catalog", "garbage-trailer"] {
        let lib = Lib::new();
        let bytes = broken(how);
        let file = lib.file(&format!("{how}.pdf"), &bytes);
        let (code, lines) = lib.add(&["--no-ocr", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{how}: {lines:?}");
        assert_eq!(lines[0]["status"], "added", "{how}: {lines:?}");
        assert_eq!(lines[0]["repaired"], true, "{how}: {lines:?}");
        assert_eq!(lines[0]["pages"], 2, "{how}");
        let id = lines[0]["doc_id"].as_str().unwrap().to_string();
        let originals = lib.dir.path().join("library/originals");
        assert_eq!(std::fs::read(originals.join(format!("{id}.pdf"))).unwrap(), bytes, "{how}: original untouched");
        assert!(originals.join(format!("{id}.repaired.pdf")).is_file(), "{how}");
        // Its words were read, and its pages draw (from the repaired copy).
        let text = lib.json(&["text", &id]);
        assert!(!text["pages"][0]["words"].as_array().unwrap().is_empty(), "{how}: {text}");
        let png = lib.dir.path().join("page.png");
        let out = lib.cmd().args(["render", &id, "--page", "2", "--output"]).arg(&png).output().unwrap();
        assert!(out.status.success(), "{how}: {}", String::from_utf8_lossy(&out.stderr));
        let out = lib.cmd().args(["rm", &id]).output().unwrap();
        assert!(out.status.success(), "{how}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(std::fs::read_dir(&originals).unwrap().count(), 0, "{how}: both copies removed");
    }
}

#[test]
fn a_pdf_no_repair_can_read_is_refused_as_damaged() {
    if !pdfium_available("a_pdf_no_repair_can_read_is_refused_as_damaged") {
        return;
    }
    let lib = Lib::new();
    let file = lib.file("hopeless.pdf", b"%PDF-1.7\n1 0 obj << /Type /Nothing >> endobj\n%%EOF\n");
    let (code, lines) = lib.add(&["--no-ocr", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["error"]["kind"], "corrupt", "{lines:?}");
    assert_eq!(std::fs::read_dir(lib.dir.path().join("library/originals")).unwrap().count(), 0);
}
