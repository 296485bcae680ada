//! End-to-end: the `pagewise` binary on documents the tests generate (known text at known
//! positions, columns, rotation, encryption, images) and on broken input.

mod common;

use common::{bbox, word, Lib};
use pagewise_engine::read::straighten::made_up_photo;
use pagewise_testkit::{
    helvetica_width, jpeg_with_orientation, multipage_tiff, pdfium_available, png_page, webp_page, PdfBuilder, PdfPage,
};
use predicates::prelude::*;

#[test]
fn words_have_boxes_in_page_points_from_the_top_left() {
    if !pdfium_available("words_have_boxes") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("invoice.pdf", &common::invoice_pdf());
    let (code, lines) = lib.add(&[pdf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["status"], "added");
    assert_eq!(lines[0]["pages"], 2);
    let text = lib.json(&["text", "invoice.pdf"]);
    let page = &text["pages"][0];
    assert_eq!(page["width"], 595.0);
    assert_eq!(page["height"], 842.0);
    assert_eq!(page["source"], "text-layer");
    let inv = bbox(word(&text, 1, "Invoice"));
    assert!((inv[0] - 72.0).abs() < 1.0, "x0 {inv:?}");
    assert!((inv[2] - inv[0] - helvetica_width("Invoice", 12.0) as f64).abs() < 1.5, "width {inv:?}");
    assert!(inv[1] < 120.0 && inv[3] > 118.0 && inv[3] - inv[1] < 20.0, "the box spans the baseline at 120: {inv:?}");
    let total = bbox(word(&text, 1, "1,234.50"));
    assert!(total[1] > 680.0 && total[3] < 710.0, "{total:?}");
    assert!(page["text"].as_str().unwrap().contains("Invoice Number: INV-2024-001"));
    assert_eq!(text["pages"][1]["text"], "Terms: payment within thirty days");
    let title = word(&text, 1, "ACME");
    assert_eq!(title["bold"], true);
    assert_eq!(title["size"], 20.0);
}

#[test]
fn two_column_pages_read_column_by_column() {
    if !pdfium_available("two_column") {
        return;
    }
    let lib = Lib::new();
    let mut page = PdfPage::a4().bold(50.0, 60.0, 18.0, "Title Spanning Both Columns Of The Page");
    for i in 0..12 {
        let y = 100.0 + 12.0 * i as f32;
        page = page.text(50.0, y, 10.0, &format!("left{i} words that fill the column nicely"));
        page = page.text(310.0, y, 10.0, &format!("right{i} words that fill the column nicely"));
    }
    let pdf = lib.file("columns.pdf", &PdfBuilder::new().page(page).build());
    let text = lib.json(&["text", pdf.to_str().unwrap()]);
    let t = text["pages"][0]["text"].as_str().unwrap();
    assert!(t.starts_with("Title Spanning"), "{t}");
    assert!(t.find("left11").unwrap() < t.find("right0").unwrap(), "{t}");
    let lines = text["pages"][0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 25);
}

#[test]
fn rotated_pages_report_displayed_geometry() {
    if !pdfium_available("rotated_pages") {
        return;
    }
    let lib = Lib::new();
    let pdf = PdfBuilder::new().page(PdfPage::new(600.0, 400.0).rotate(90).text(20.0, 30.0, 12.0, "Corner")).build();
    let path = lib.file("rotated.pdf", &pdf);
    let text = lib.json(&["text", path.to_str().unwrap()]);
    let page = &text["pages"][0];
    assert_eq!(
        (page["width"].as_f64(), page["height"].as_f64(), page["rotation"].as_u64()),
        (Some(400.0), Some(600.0), Some(90))
    );
    // Top-left of the unrotated page shows at the top-right once turned clockwise.
    let b = bbox(word(&text, 1, "Corner"));
    assert!(b[0] > 340.0 && b[1] < 80.0, "{b:?}");
    assert!(b[3] - b[1] > b[2] - b[0], "the word now runs down the page: {b:?}");
    let out = lib.dir.path().join("rot.png");
    lib.cmd().args(["render", "rotated.pdf", "--page", "1", "--dpi", "72", "-o"]).arg(&out).assert().success();
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (400, 600));
}

#[test]
fn encrypted_pdfs_need_the_right_password() {
    if !pdfium_available("encrypted") {
        return;
    }
    if std::process::Command::new("qpdf").arg("--version").output().is_err() {
        eprintln!("SKIP encrypted_pdfs_need_the_right_password: qpdf is absent (the set-up installs it)");
        return;
    }
    let lib = Lib::new();
    let plain = lib.file("plain.pdf", &common::invoice_pdf());
    let locked = lib.dir.path().join("locked.pdf");
    let ok = std::process::Command::new("qpdf")
        .args(["--encrypt", "s3cret", "owner", "256", "--"])
        .arg(&plain)
        .arg(&locked)
        .status()
        .unwrap();
    assert!(ok.success());
    let (code, lines) = lib.add(&[locked.to_str().unwrap()]);
    assert_eq!((code, lines[0]["error"]["kind"].as_str()), (1, Some("password_required")));
    let (code, lines) = lib.add(&[locked.to_str().unwrap(), "--password", "wrong"]);
    assert_eq!((code, lines[0]["error"]["kind"].as_str()), (1, Some("wrong_password")));
    let (code, lines) = lib.add(&[locked.to_str().unwrap(), "--password", "s3cret"]);
    assert_eq!((code, lines[0]["status"].as_str()), (0, Some("added")));
    let text = lib.json(&["text", "locked.pdf", "--page", "1"]);
    assert!(text["pages"][0]["text"].as_str().unwrap().contains("INV-2024-001"));
    // Without a keyring (as the tests run) a later process needs the password to draw the page.
    let out = lib.dir.path().join("locked.png");
    lib.cmd().args(["render", "locked.pdf", "--page", "2", "--dpi", "36", "-o"]).arg(&out).assert().failure();
    let args = ["render", "locked.pdf", "--page", "2", "--dpi", "36", "--password", "s3cret", "-o"];
    lib.cmd().args(args).arg(&out).assert().success();
}

#[test]
fn images_import_as_pages_with_their_geometry() {
    let lib = Lib::new();
    let files = [
        lib.file("scan.png", &png_page(200, 300)),
        lib.file("photo.jpg", &jpeg_with_orientation(300, 200, 6)),
        lib.file("fax.tif", &multipage_tiff(&[(100, 150), (120, 160), (100, 150)])),
        lib.file("receipt.webp", &webp_page(80, 160)),
    ];
    // Left unread here: this test is about pages and pixels (tests/ocr.rs reads them).
    let mut args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    args.push("--no-ocr");
    let (code, lines) = lib.add(&args);
    assert_eq!(code, 0, "{lines:?}");
    let pages: Vec<u64> = lines.iter().map(|l| l["pages"].as_u64().unwrap()).collect();
    assert_eq!(pages, vec![1, 1, 3, 1]);
    let show = lib.json(&["show", "photo.jpg"]);
    // EXIF orientation 6 turns the stored 300x200 pixels upright: 200 wide, 300 tall.
    assert_eq!((show["pages"][0]["width"].as_f64(), show["pages"][0]["height"].as_f64()), (Some(200.0), Some(300.0)));
    assert_eq!(show["pages"][0]["source"], "needs-reader");
    let out = lib.dir.path().join("photo.png");
    lib.cmd().args(["render", "photo.jpg", "--dpi", "72", "-o"]).arg(&out).assert().success();
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (200, 300));
    // The dark mark in the stored top-left corner is at the top-right once turned 90 degrees clockwise.
    assert!(img.get_pixel(190, 10)[0] < 100 && img.get_pixel(10, 10)[0] > 200);
    let page3 = lib.dir.path().join("fax3.png");
    lib.cmd().args(["render", "fax.tif", "--page", "3", "--dpi", "72", "-o"]).arg(&page3).assert().success();
    assert_eq!(image::open(&page3).unwrap().width(), 100);
    lib.cmd().args(["text", "scan.png"]).assert().success().stderr(predicate::str::contains("not read yet"));
}

#[test]
fn a_photographed_page_is_straightened_and_its_photo_kept() {
    let lib = Lib::new();
    let corners = [(180.0, 120.0), (820.0, 190.0), (760.0, 1080.0), (90.0, 990.0)];
    let mut png = std::io::Cursor::new(Vec::new());
    made_up_photo(1000, 1200, corners).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let files = [lib.file("photo.png", png.get_ref()), lib.file("scan.png", &png_page(200, 300))];
    let (code, lines) = lib.add(&[files[0].to_str().unwrap(), files[1].to_str().unwrap(), "--no-ocr"]);
    assert_eq!(code, 0, "{lines:?}");
    let show = lib.json(&["show", "photo.png"]);
    let page = &show["pages"][0];
    let found: Vec<(f64, f64)> = serde_json::from_value(page["photo_corners"].clone()).expect("corners kept");
    for (f, c) in found.iter().zip(corners) {
        assert!((f.0 - c.0 as f64).abs() < 12.0 && (f.1 - c.1 as f64).abs() < 12.0, "{found:?}");
    }
    // The page is the straightened sheet's shape (about 650 x 890), not the photo's.
    let shape = page["height"].as_f64().unwrap() / page["width"].as_f64().unwrap();
    assert!((1.3..1.45).contains(&shape), "{page}");
    assert!(lib.json(&["show", "scan.png"])["pages"][0]["photo_corners"].is_null(), "a flat scan is left alone");
    let drawn = |extra: &[&str]| {
        let out = lib.dir.path().join("drawn.png");
        lib.cmd().args(["render", "photo.png", "--dpi", "72", "-o"]).arg(&out).args(extra).assert().success();
        image::open(&out).unwrap().to_rgb8()
    };
    let straight = drawn(&[]);
    let (w, h) = straight.dimensions();
    // Paper near each corner of the page drawn, not the table it lay on.
    for (x, y) in [(w / 20, h / 40), (w - w / 20, h / 40), (w - w / 20, h - h / 40), (w / 20, h - h / 40)] {
        assert!(straight.get_pixel(x, y)[2] > 180, "({x}, {y}) {:?}", straight.get_pixel(x, y));
    }
    let photo = drawn(&["--original"]);
    assert_eq!(photo.width(), w, "the photo is drawn as wide as the page");
    assert!((photo.height() as f64 / w as f64 - 1.2).abs() < 0.02);
    assert!(photo.get_pixel(4, 4)[2] < 120, "the table is in the photo");
}

#[test]
fn adding_twice_is_a_duplicate() {
    let lib = Lib::new();
    let a = lib.file("a.png", &png_page(50, 50));
    let b = lib.file("copy-of-a.png", &png_page(50, 50));
    let (_, first) = lib.add(&[a.to_str().unwrap()]);
    let (code, second) = lib.add(&[b.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(second[0]["status"], "duplicate");
    assert_eq!(first[0]["doc_id"], second[0]["doc_id"]);
    assert_eq!(lib.json(&["list"]).as_array().unwrap().len(), 1);
}

/// A PNG whose header claims `w` x `h` pixels (with a valid CRC) and no pixel data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // A few bytes of image data: a bomb carries some, and decoders read the header up to here.
    for (name, data) in [(&b"IDAT"[..], &[0x78u8, 0x9c, 0x03, 0x00][..]), (b"IEND", &[])] {
        let mut chunk = name.to_vec();
        chunk.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

#[test]
fn bad_input_gets_a_clear_error_and_loses_nothing() {
    if !pdfium_available("bad_input") {
        return;
    }
    let lib = Lib::new();
    let keep = lib.file("keep.pdf", &common::invoice_pdf());
    lib.add(&[keep.to_str().unwrap()]);
    let good = common::invoice_pdf();
    let cases = [
        (lib.file("empty.pdf", b""), "empty_file"),
        (lib.file("truncated.pdf", &good[..good.len() / 3]), ""),
        (lib.file("notes.pdf", b"just some text, not a PDF"), "unsupported_type"),
        (lib.file("bomb.png", &png_claiming(100_000, 100_000)), "image_too_large"),
        (lib.file("broken.png", &png_page(50, 50)[..60]), "corrupt"),
        (lib.dir.path().join("missing.pdf"), "not_found"),
    ];
    let fresh = lib.file("fresh.png", &png_page(40, 40));
    let mut args: Vec<&str> = cases.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    args.push(fresh.to_str().unwrap());
    let (code, lines) = lib.add(&args);
    assert_eq!(code, 1, "some inputs failed");
    for ((path, kind), line) in cases.iter().zip(&lines) {
        assert_eq!(line["path"], path.to_str().unwrap());
        if kind.is_empty() {
            // pdfium repairs some truncated files; either outcome is fine, a crash is not.
            assert!(line["status"] == "added" || line["error"]["kind"] == "corrupt", "{line}");
        } else {
            assert_eq!(line["error"]["kind"], *kind, "{line}");
            assert!(line["error"]["message"].as_str().unwrap().contains(path.file_name().unwrap().to_str().unwrap()));
        }
    }
    assert_eq!(lines.last().unwrap()["status"], "added", "the good file after the bad ones still imports");
    let names: Vec<String> =
        lib.json(&["list"]).as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"keep.pdf".to_string()) && names.contains(&"fresh.png".to_string()), "{names:?}");
    // One original a document (and a repaired copy beside a PDF that needed one).
    let originals = std::fs::read_dir(lib.dir.path().join("library/originals"))
        .unwrap()
        .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".repaired.pdf"))
        .count();
    assert_eq!(originals, names.len(), "no stray copies of failed files");
}

#[test]
fn scanned_pdf_pages_left_unread_are_marked_as_needing_a_reader() {
    if !pdfium_available("scanned_pdf") {
        return;
    }
    let lib = Lib::new();
    let pdf = PdfBuilder::new()
        .page(PdfPage::a4().scanned(60, 80))
        .page(PdfPage::a4().text(72.0, 72.0, 12.0, "Digital page"))
        .build();
    let path = lib.file("mixed.pdf", &pdf);
    let (code, lines) = lib.add(&[path.to_str().unwrap(), "--no-ocr"]);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines[0]["unread_pages"], serde_json::json!([1]));
    let show = lib.json(&["show", "mixed.pdf"]);
    assert_eq!(show["pages"][0]["source"], "needs-reader");
    assert_eq!(show["pages"][1]["source"], "text-layer");
    assert_eq!(show["document"]["needs_reader_pages"], 1);
}

#[test]
fn search_names_document_page_and_snippet() {
    if !pdfium_available("search") {
        return;
    }
    let lib = Lib::new();
    let path = lib.file("invoice.pdf", &common::invoice_pdf());
    lib.add(&[path.to_str().unwrap()]);
    let hits = lib.json(&["search", "thirty days"]);
    assert_eq!(hits[0]["page"], 2);
    assert_eq!(hits[0]["name"], "invoice.pdf");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("[thirty]"));
    // Punctuation and quotes are not query syntax: they match the words they join.
    let hits = lib.json(&["search", "Invoice-Number: \"("]);
    assert_eq!(hits[0]["page"], 1);
    assert_eq!(lib.json(&["search", "nowhere-to-be-found"]).as_array().unwrap().len(), 0);
    lib.cmd().args(["search", "INV-2024*"]).assert().success().stdout(predicate::str::contains("p.1"));
}

#[test]
fn render_writes_a_png_at_the_dpi() {
    if !pdfium_available("render") {
        return;
    }
    let lib = Lib::new();
    let path = lib.file("invoice.pdf", &common::invoice_pdf());
    let out = lib.dir.path().join("p1.png");
    lib.cmd()
        .args(["render", path.to_str().unwrap(), "--page", "1", "--dpi", "144", "-o"])
        .arg(&out)
        .assert()
        .success();
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (1190, 1684));
    lib.cmd()
        .args(["render", "invoice.pdf", "--page", "9", "-o"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no page 9"));
}

#[test]
fn thumbnails_are_rendered_once_and_cached() {
    let lib = Lib::new();
    let a = lib.file("tall.png", &png_page(300, 600));
    let first = lib.json(&["thumbnail", a.to_str().unwrap()]);
    let path = std::path::PathBuf::from(first["thumbnail"].as_str().unwrap());
    let img = image::open(&path).unwrap();
    assert_eq!((img.width(), img.height()), (240, 480));
    let stamp = std::fs::metadata(&path).unwrap().modified().unwrap();
    let second = lib.json(&["thumbnail", "tall.png"]);
    assert_eq!(first["thumbnail"], second["thumbnail"]);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), stamp, "served from the cache");
}

#[test]
fn usage_errors_exit_2_and_unknown_documents_exit_1() {
    let lib = Lib::new();
    lib.cmd().arg("frobnicate").assert().code(2);
    lib.cmd().args(["text"]).assert().code(2);
    lib.cmd()
        .args(["--json", "show", "deadbeef"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown_document"));
}

#[test]
fn remove_forgets_a_document() {
    let lib = Lib::new();
    let a = lib.file("a.png", &png_page(30, 30));
    lib.add(&[a.to_str().unwrap()]);
    lib.cmd().args(["rm", "a.png"]).assert().success();
    assert_eq!(lib.json(&["list"]).as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read_dir(lib.dir.path().join("library/originals")).unwrap().count(), 0);
}
