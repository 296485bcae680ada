//! End-to-end: `pagewise layout`, `tables`, `text --format markdown` and `render --overlay`
//! on a generated report whose structure is known, and on pages that need the detector.

mod common;

use common::Lib;
use pagewise_testkit::{filler_words, pdfium_available, png_page, PdfBuilder, PdfPage};
use serde_json::Value;

/// Three pages with a running head and page numbers; page 1 has a title, numbered sections,
/// paragraphs, a numbered list, a captioned table framed by rules and a label/value line.
fn report_pdf() -> Vec<u8> {
    let mut pdf = PdfBuilder::new();
    for p in 0..3u32 {
        let mut page = PdfPage::a4().text(72.0, 40.0, 8.0, "Pagewise quarterly report").text(
            290.0,
            815.0,
            8.0,
            &format!("Page {}", p + 1),
        );
        let mut y = 100.0;
        if p == 0 {
            page = page.bold(72.0, y, 22.0, "Quarterly Report");
            y += 40.0;
        }
        page = page.bold(72.0, y, 13.0, &format!("{} Results of the quarter", p + 1));
        y += 22.0;
        for line in 0..5 {
            page = page.text(72.0, y, 10.0, &filler_words(p * 10 + line, 12).join(" "));
            y += 13.0;
        }
        if p == 0 {
            y += 10.0;
            page = page.text(72.0, y, 10.0, "1. first numbered point of the list").text(
                72.0,
                y + 13.0,
                10.0,
                "2. second numbered point of the list",
            );
            y += 40.0;
            page = page.text(72.0, y, 10.0, "Table 1: Revenue by region");
            let top = y + 8.0;
            page = page.rule(72.0, top, 400.0, top);
            let rows = [
                ("Region", "2023", "2024"),
                ("North", "10.5", "12.0"),
                ("South", "7.25", "9.75"),
                ("East", "3.0", "4.5"),
            ];
            for (r, (a, b, c)) in rows.iter().enumerate() {
                let base = top + 14.0 + 16.0 * r as f32;
                page = page.text(80.0, base, 10.0, a).text(220.0, base, 10.0, b).text(320.0, base, 10.0, c);
                if r == 0 {
                    page = page.rule(72.0, base + 4.0, 400.0, base + 4.0);
                }
            }
            page = page.rule(72.0, top + 14.0 + 16.0 * 3.0 + 6.0, 400.0, top + 14.0 + 16.0 * 3.0 + 6.0);
            page = page.text(72.0, 600.0, 10.0, "Invoice No: PW-2024-77");
        }
        pdf = pdf.page(page);
    }
    pdf.build()
}

fn regions(layout: &Value, page: u64) -> Vec<Value> {
    layout["pages"].as_array().unwrap().iter().find(|p| p["page"] == page).unwrap()["regions"]
        .as_array()
        .unwrap()
        .clone()
}

fn find<'a>(regions: &'a [Value], label: &str, text: &str) -> &'a Value {
    regions.iter().find(|r| r["label"] == label && r["text"].as_str().unwrap().contains(text)).unwrap_or_else(|| {
        panic!("no {label} region with '{text}' in {}", serde_json::to_string_pretty(regions).unwrap())
    })
}

#[test]
fn layout_labels_a_report_and_orders_its_regions() {
    if !pdfium_available("layout_labels_a_report") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("report.pdf", &report_pdf());
    let layout = lib.json(&["layout", pdf.to_str().unwrap()]);
    assert_eq!(layout["pages"].as_array().unwrap().len(), 3);
    let r = regions(&layout, 1);
    for key in ["label", "bbox", "order", "text", "confidence", "source"] {
        assert!(r.iter().all(|x| x.get(key).is_some()), "every region has {key}");
    }
    assert!(r.iter().all(|x| x["source"] == "geometric"));
    let title = find(&r, "Title", "Quarterly Report");
    let section = find(&r, "Section-header", "Results of the quarter");
    find(&r, "Page-header", "Pagewise quarterly report");
    find(&r, "Page-footer", "Page 1");
    find(&r, "List-item", "first numbered point");
    find(&r, "List-item", "second numbered point");
    let caption = find(&r, "Caption", "Table 1");
    let table = find(&r, "Table", "Region");
    let pair = find(&r, "Key-Value", "PW-2024-77");
    assert_eq!(pair["pair"]["key"], "Invoice No");
    assert_eq!(pair["pair"]["value"], "PW-2024-77");
    let cells = table["cells"].as_array().unwrap();
    let cell = |row: u64, col: u64| {
        cells.iter().find(|c| c["row"] == row && c["col"] == col).map(|c| c["text"].as_str().unwrap().to_string())
    };
    assert_eq!(cell(0, 0).as_deref(), Some("Region"));
    assert_eq!(cell(2, 2).as_deref(), Some("9.75"));
    assert_eq!(cell(3, 0).as_deref(), Some("East"));
    let order = |x: &Value| x["order"].as_u64().unwrap();
    assert!(
        order(title) < order(section)
            && order(section) < order(caption)
            && order(caption) < order(table)
            && order(table) < order(pair)
    );
    // Later pages: the running head and page number again, and no title.
    let r3 = regions(&layout, 3);
    find(&r3, "Page-footer", "Page 3");
    assert!(r3.iter().all(|x| x["label"] != "Title"));
    let one = lib.json(&["layout", "report.pdf", "--page", "2"]);
    assert_eq!(one["pages"].as_array().unwrap().len(), 1);
}

#[test]
fn tables_are_written_as_csv_and_markdown_follows_the_regions() {
    if !pdfium_available("tables_csv") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("report.pdf", &report_pdf());
    let out = lib.dir.path().join("csv");
    let listed = lib.json(&["tables", pdf.to_str().unwrap(), "--csv", out.to_str().unwrap()]);
    let tables = listed["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 1, "{listed}");
    let csv = std::fs::read_to_string(tables[0]["csv"].as_str().unwrap()).unwrap();
    assert_eq!(csv, "Region,2023,2024\r\nNorth,10.5,12.0\r\nSouth,7.25,9.75\r\nEast,3.0,4.5\r\n");
    let md = lib.cmd().args(["text", "report.pdf", "--page", "1", "--format", "markdown"]).output().unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("# Quarterly Report"), "{md}");
    assert!(md.contains("## 1 Results of the quarter"), "{md}");
    assert!(md.contains("| Region | 2023 | 2024 |\n|---|---|---|\n| North | 10.5 | 12.0 |"), "{md}");
    assert!(md.contains("**Invoice No:** PW-2024-77"), "{md}");
    assert!(!md.contains("Pagewise quarterly report"), "running heads are left out: {md}");
}

#[test]
fn overlay_draws_the_layout_over_the_page() {
    if !pdfium_available("overlay") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("report.pdf", &report_pdf());
    let plain = lib.dir.path().join("plain.png");
    let drawn = lib.dir.path().join("drawn.png");
    lib.cmd().args(["render", pdf.to_str().unwrap(), "--dpi", "50", "-o", plain.to_str().unwrap()]).assert().success();
    lib.cmd()
        .args(["render", "report.pdf", "--dpi", "50", "--overlay", "layout", "-o", drawn.to_str().unwrap()])
        .assert()
        .success();
    let (a, b) = (image::open(&plain).unwrap().to_rgb8(), image::open(&drawn).unwrap().to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions());
    // The table's outline in its label colour (RGB 41, 128, 185) is somewhere on the page.
    assert!(b.pixels().any(|p| p.0 == [41, 128, 185]), "the table outline is drawn");
    assert!(!a.pixels().any(|p| p.0 == [41, 128, 185]));
}

#[test]
fn image_pages_use_the_detector_or_say_how_to_install_it() {
    if !pdfium_available("image_pages_detector") {
        return;
    }
    let lib = Lib::new();
    let png = lib.file("scan.png", &png_page(300, 400));
    let tall = lib.file("strip.png", &png_page(1, 20_000));
    // Without the model: a clear message naming the command that installs it.
    let empty = lib.dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let out = lib.cmd().env("PAGEWISE_MODELS", &empty).args(["layout", png.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash scripts/dev.sh models"), "{err}");
    if pagewise_engine::models::model_file("layout-cdla").is_err() {
        eprintln!("SKIP image_pages_use_the_detector: the layout model is absent (run `bash scripts/dev.sh models`)");
        return;
    }
    // With the model: the page is analysed by the detector (a blank test page has no words for
    // the geometric analysis, and may have no regions), and a 1 x 20,000 pixel strip is
    // analysed too, without a panic.
    for f in [&png, &tall] {
        let layout = lib.json(&["layout", f.to_str().unwrap()]);
        let page = &layout["pages"][0];
        assert!(page.get("error").is_none(), "{layout}");
        assert!(page["regions"].as_array().unwrap().iter().all(|r| r["source"] == "detector"));
    }
}

#[test]
fn a_scanned_page_without_the_model_keeps_the_text_pages_analysed() {
    if !pdfium_available("mixed_document") {
        return;
    }
    let lib = Lib::new();
    let pdf = PdfBuilder::new()
        .page(PdfPage::a4().bold(72.0, 100.0, 16.0, "Cover page").text(72.0, 130.0, 10.0, "some words"))
        .page(PdfPage::a4().scanned(200, 280))
        .build();
    let pdf = lib.file("mixed.pdf", &pdf);
    let empty = lib.dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let out =
        lib.cmd().env("PAGEWISE_MODELS", &empty).args(["--json", "layout", pdf.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a page failed");
    let layout: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!regions(&layout, 1).is_empty(), "page 1 is analysed");
    assert_eq!(layout["pages"][1]["error"]["kind"], "model_missing");
}

#[test]
fn a_page_of_tiny_drawings_and_one_under_a_huge_image_are_analysed() {
    if !pdfium_available("tiny_drawings") {
        return;
    }
    let lib = Lib::new();
    // 5,000 strokes of a pattern (a hatched map, a chart's marks) around a paragraph, and a
    // page whose whole area is one image with a caption over it.
    let mut hatched = PdfPage::a4().text(72.0, 90.0, 10.0, "Survey of the northern field");
    for k in 0..5_000 {
        let (x, y) = (72.0 + (k % 100) as f32 * 4.5, 120.0 + (k / 100) as f32 * 9.0);
        hatched = hatched.rule(x, y, x + 2.0, y);
    }
    let mut covered = PdfPage::a4().text(72.0, 400.0, 10.0, "Figure 1: the site from above");
    covered.logos.push((0.0, 0.0, 595.0, 842.0));
    let pdf = lib.file("bad.pdf", &PdfBuilder::new().page(hatched).page(covered).build());
    let layout = lib.json(&["layout", pdf.to_str().unwrap()]);
    for (page, words) in [(1u64, 5u64), (2, 6)] {
        let p = &layout["pages"][page as usize - 1];
        assert!(p.get("error").is_none(), "{p}");
        // Every word is in exactly one region.
        let mut held: Vec<u64> = regions(&layout, page)
            .iter()
            .flat_map(|r| r["words"].as_array().unwrap().iter().map(|w| w.as_u64().unwrap()))
            .collect();
        held.sort();
        assert_eq!(held, (0..words).collect::<Vec<u64>>(), "page {page}: {p}");
    }
}
