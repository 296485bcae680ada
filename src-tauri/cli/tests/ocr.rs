//! End-to-end: pages without a text layer are read by OCR on import (upright, searchable, with
//! word boxes), left waiting with the reason when the models are absent, and read later or
//! again on request with `pagewise text DOC --reader ocr [--save]`.

mod common;

use std::path::{Path, PathBuf};

use common::Lib;
use pagewise_testkit::{pdfium_available, PdfBuilder, PdfPage};

#[test]
fn text_can_be_read_from_the_pixels() {
    if !pdfium_available("text_reader_ocr") {
        return;
    }
    if pagewise_engine::models::model_file("ocr-rec").is_err() {
        eprintln!(
            "SKIP text_can_be_read_from_the_pixels: the OCR models are absent (run `bash scripts/dev.sh models`)"
        );
        return;
    }
    let lib = Lib::new();
    let pdf = PdfBuilder::new()
        .page(PdfPage::a4().bold(72.0, 100.0, 20.0, "Quarterly Report").text(
            72.0,
            140.0,
            12.0,
            "Invoice Number: INV-2024-001",
        ))
        .build();
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

fn models_installed(test: &str) -> bool {
    let ok = pagewise_engine::models::model_file("ocr-rec").is_ok();
    if !ok {
        eprintln!("SKIP {test}: the OCR models are absent (run `bash scripts/dev.sh models`)");
    }
    ok
}

/// A page image rendered from our own demo invoice (committed under tests/fixtures).
fn invoice_png() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/detector/invoice-p1.png")
}

fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[test]
fn scans_are_read_on_import_upright_and_searchable() {
    if !models_installed("scans_are_read_on_import") {
        return;
    }
    let lib = Lib::new();
    let page = image::open(invoice_png()).unwrap().to_rgb8();
    let upright = lib.file("invoice.png", &png_bytes(&page));
    let upside_down = lib.file("upside-down.png", &png_bytes(&image::imageops::rotate180(&page)));
    let sideways = lib.file("sideways.png", &png_bytes(&image::imageops::rotate90(&page)));
    let (code, lines) =
        lib.add(&[upright.to_str().unwrap(), upside_down.to_str().unwrap(), sideways.to_str().unwrap()]);
    assert_eq!(code, 0, "{lines:?}");
    for (name, turned) in [("invoice.png", 0), ("upside-down.png", 180), ("sideways.png", 270)] {
        let show = lib.json(&["show", name]);
        let p = &show["pages"][0];
        assert_eq!(p["source"], "ocr", "{name}");
        assert_eq!(p["turned"].as_u64().unwrap_or(0), turned, "{name} is turned upright");
        // The upright page is as wide as the original image (72 DPI: a pixel is a point).
        assert_eq!(
            (p["width"].as_f64(), p["height"].as_f64()),
            (Some(page.width() as f64), Some(page.height() as f64)),
            "{name}"
        );
        let text = lib.json(&["text", name]);
        let words: Vec<&str> =
            text["pages"][0]["words"].as_array().unwrap().iter().map(|w| w["text"].as_str().unwrap()).collect();
        assert!(words.contains(&"Northwind") && words.contains(&"INVOICE"), "{name}: {words:?}");
        // Words have boxes on the upright page: the title sits in its top part.
        let title = text["pages"][0]["words"].as_array().unwrap().iter().find(|w| w["text"] == "INVOICE").unwrap();
        assert!(title["bbox"][1].as_f64().unwrap() < page.height() as f64 / 3.0, "{name}: {title}");
    }
    let hits = lib.json(&["search", "Northwind"]);
    assert_eq!(hits.as_array().unwrap().len(), 3, "every reading is in the index: {hits}");
    // Rendering shows the page upright: the upside-down file renders like the original.
    let out = lib.dir.path().join("turned.png");
    lib.cmd().args(["render", "upside-down.png", "--dpi", "72", "-o"]).arg(&out).assert().success();
    let rendered = image::open(&out).unwrap().to_luma8();
    let original = image::DynamicImage::ImageRgb8(page).to_luma8();
    let diff: f64 =
        rendered.pixels().zip(original.pixels()).map(|(a, b)| (a[0] as f64 - b[0] as f64).abs()).sum::<f64>()
            / original.len() as f64;
    assert!(diff < 2.0, "mean pixel difference {diff}");
    // Layout works on the read page as on a digital one.
    let layout = lib.json(&["layout", "upside-down.png"]);
    assert!(!layout["pages"][0]["regions"].as_array().unwrap().is_empty(), "{layout}");
}

#[test]
fn without_the_models_scans_wait_with_the_reason_and_are_read_later() {
    if !models_installed("scans_wait_for_a_reader") {
        return;
    }
    let lib = Lib::new();
    let empty = tempfile::tempdir().unwrap();
    let png = lib.file("invoice.png", &std::fs::read(invoice_png()).unwrap());
    let out = lib.cmd().env("PAGEWISE_MODELS", empty.path()).args(["--json", "add"]).arg(&png).output().unwrap();
    assert!(out.status.success(), "the import itself succeeds");
    let outcome: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(outcome["status"], "added");
    assert_eq!(outcome["unread_pages"], serde_json::json!([1]));
    assert_eq!(outcome["unread_reason"]["kind"], "model_missing", "{outcome}");
    let show = lib.json(&["show", "invoice.png"]);
    assert_eq!(show["pages"][0]["source"], "needs-reader");
    assert!(lib.json(&["search", "Northwind"]).as_array().unwrap().is_empty());
    // Once the models are there, the page is read on request and kept.
    let read = lib.json(&["text", "invoice.png", "--reader", "ocr", "--save"]);
    assert_eq!(read["pages"][0]["saved"], true);
    assert_eq!(lib.json(&["show", "invoice.png"])["pages"][0]["source"], "ocr");
    assert_eq!(lib.json(&["search", "Northwind"]).as_array().unwrap().len(), 1);
}

/// The demo's phone photo of a till receipt (tilted, unevenly lit, noisy, stored sideways with
/// an EXIF tag): read upright on import, and the receipt schema finds its four fields on it.
#[test]
fn a_photographed_receipt_is_read_and_its_fields_extracted() {
    if !models_installed("a_photographed_receipt") {
        return;
    }
    let lib = Lib::new();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/photo-of-a-receipt.jpg");
    let (code, lines) = lib.add(&[photo.to_str().unwrap()]);
    assert_eq!(code, 0, "{lines:?}");
    let page = &lib.json(&["show", "photo-of-a-receipt.jpg"])["pages"][0];
    assert_eq!(page["source"], "ocr");
    assert!(page["height"].as_f64() > page["width"].as_f64(), "shown upright (portrait): {page}");
    let out = lib.json(&["extract", "photo-of-a-receipt.jpg", "--schema", "receipt"]);
    let fields = &out["documents"][0]["fields"];
    let value = |name: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .map(|f| f["value"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(value("vendor").as_deref(), Some("HARBOUR CAFE & BAKERY"), "{out}");
    assert_eq!(value("date").as_deref(), Some("2024-05-02"), "{out}");
    assert_eq!(value("total").as_deref(), Some("13.75"), "{out}");
    assert!(value("address").is_some_and(|a| a.contains("7 Quay Lane")), "not the VAT number: {out}");
    // Its layout is text, not one picture (the detector alone calls the whole receipt a
    // picture): every word in a region, the shop's name first, the amounts as key-value lines.
    let layout = lib.json(&["layout", "photo-of-a-receipt.jpg"]);
    let regions = layout["pages"][0]["regions"].as_array().unwrap();
    assert!(regions.iter().all(|r| r["label"] != "Picture"), "{layout}");
    let held: usize = regions.iter().map(|r| r["words"].as_array().unwrap().len()).sum();
    let words = lib.json(&["text", "photo-of-a-receipt.jpg"])["pages"][0]["words"].as_array().unwrap().len();
    assert_eq!(held, words, "{layout}");
    assert!(regions[0]["text"].as_str().unwrap().contains("HARBOUR"), "{layout}");
    let line = regions.iter().find(|r| r["text"].as_str().unwrap().starts_with("Subtotal")).expect("the subtotal");
    assert_eq!(line["label"], "Key-Value", "{layout}");
}
