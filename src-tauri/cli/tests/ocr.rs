//! End-to-end: `pagewise text DOC --reader ocr` reads pages from their pixels.

mod common;

use common::{pdfium_available, Lib};
use pagewise_testkit::{PdfBuilder, PdfPage};

#[test]
fn text_can_be_read_from_the_pixels() {
    if !pdfium_available("text_reader_ocr") {
        return;
    }
    if pagewise_engine::models::model_file("ocr-rec").is_err() {
        eprintln!("SKIP text_can_be_read_from_the_pixels: the OCR models are absent (run `bash scripts/dev.sh models`)");
        return;
    }
    let lib = Lib::new();
    let pdf = PdfBuilder::new().page(PdfPage::a4().bold(72.0, 100.0, 20.0, "Quarterly Report").text(72.0, 140.0, 12.0, "Invoice Number: INV-2024-001")).build();
    let pdf = lib.file("report.pdf", &pdf);
    let out = lib.json(&["text", pdf.to_str().unwrap(), "--reader", "ocr"]);
    let lines = out["pages"][0]["lines"].as_array().unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(out["pages"][0]["source"], "ocr");
    assert!(texts.contains(&"Quarterly Report"), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("INV-2024-001")), "{texts:?}");
    // Boxes are in page points: the title starts near x = 72 pt, y = 100 pt (its baseline).
    let title = lines.iter().find(|l| l["text"] == "Quarterly Report").unwrap();
    let b: Vec<f64> = title["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((b[0] - 72.0).abs() < 8.0 && b[1] < 100.0 && b[3] > 90.0, "{b:?}");
}
