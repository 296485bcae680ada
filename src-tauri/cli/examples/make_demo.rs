//! Writes the demo documents in assets/demo (run from the repository root:
//! `cargo run -p pagewise-cli --example make_demo`; the photo needs libpdfium, which the set-up
//! installs). They are generated, so they are ours to redistribute (MIT OR Apache-2.0, like the
//! code).

use std::sync::atomic::AtomicBool;

use image::{imageops, Rgb, RgbImage};
use pagewise_engine::{AddOptions, Library};
use pagewise_testkit::{article, with_exif_orientation, PdfBuilder, PdfPage};

fn invoice() -> Vec<u8> {
    let mut page = PdfPage::a4()
        .bold(50.0, 70.0, 22.0, "Northwind Office Supplies")
        .text(50.0, 90.0, 9.0, "12 Harbour Street, Bristol BS1 4DJ, United Kingdom")
        .bold(400.0, 70.0, 18.0, "INVOICE")
        .text(400.0, 100.0, 10.0, "Invoice No: NW-2024-0815")
        .text(400.0, 115.0, 10.0, "Date: 14 March 2024")
        .text(400.0, 130.0, 10.0, "Due date: 13 April 2024")
        .bold(50.0, 170.0, 10.0, "Bill to")
        .text(50.0, 185.0, 10.0, "Pagewise Demo GmbH")
        .text(50.0, 198.0, 10.0, "Musterweg 5, 10115 Berlin")
        .rule(50.0, 240.0, 545.0, 240.0)
        .bold(50.0, 255.0, 10.0, "Description")
        .bold(330.0, 255.0, 10.0, "Qty")
        .bold(400.0, 255.0, 10.0, "Unit price")
        .bold(490.0, 255.0, 10.0, "Amount")
        .rule(50.0, 262.0, 545.0, 262.0);
    let items = [
        ("Recycled paper A4, 500 sheets", "20", "4.20", "84.00"),
        ("Ballpoint pens, blue, box of 50", "4", "9.90", "39.60"),
        ("Desk organiser, bamboo", "3", "18.50", "55.50"),
        ("Stapler, heavy duty", "2", "24.00", "48.00"),
    ];
    for (i, (d, q, u, a)) in items.iter().enumerate() {
        let y = 280.0 + 16.0 * i as f32;
        page = page.text(50.0, y, 10.0, d).text(330.0, y, 10.0, q).text(400.0, y, 10.0, u).text(490.0, y, 10.0, a);
    }
    page.rule(50.0, 350.0, 545.0, 350.0)
        .text(400.0, 370.0, 10.0, "Subtotal")
        .text(490.0, 370.0, 10.0, "227.10")
        .text(400.0, 386.0, 10.0, "VAT 20%")
        .text(490.0, 386.0, 10.0, "45.42")
        .bold(400.0, 404.0, 11.0, "Total due")
        .bold(490.0, 404.0, 11.0, "GBP 272.52")
        .text(
            50.0,
            780.0,
            8.0,
            "Payment within 30 days to IBAN GB29 NWBK 6016 1331 9268 19. Thank you for your business.",
        )
        .into_pdf()
}

trait IntoPdf {
    fn into_pdf(self) -> Vec<u8>;
}

impl IntoPdf for PdfPage {
    fn into_pdf(self) -> Vec<u8> {
        PdfBuilder::new().page(self).build()
    }
}

/// A till receipt, 80 mm wide.
fn receipt() -> Vec<u8> {
    let mut page = PdfPage::new(227.0, 400.0)
        .bold(26.0, 40.0, 12.0, "HARBOUR CAFE & BAKERY")
        .text(46.0, 56.0, 8.0, "7 Quay Lane, Bristol BS1 5TX")
        .text(62.0, 68.0, 8.0, "Tel 0117 496 0123")
        .text(58.0, 80.0, 8.0, "VAT No GB 123 4567 89")
        .text(16.0, 104.0, 8.5, "Date: 02/05/2024")
        .text(130.0, 104.0, 8.5, "Time: 12:41")
        .text(16.0, 117.0, 8.5, "Receipt No: 004517")
        .rule(16.0, 126.0, 211.0, 126.0);
    let items =
        [("Flat white", "3.40"), ("Cinnamon bun", "2.95"), ("Sourdough loaf", "4.80"), ("Orange juice", "2.60")];
    for (i, (what, price)) in items.iter().enumerate() {
        let y = 142.0 + 14.0 * i as f32;
        page = page.text(16.0, y, 9.0, what).text(178.0, y, 9.0, price);
    }
    page.rule(16.0, 204.0, 211.0, 204.0)
        .text(16.0, 220.0, 9.0, "Subtotal")
        .text(172.0, 220.0, 9.0, "13.75")
        .text(16.0, 234.0, 9.0, "VAT included")
        .text(178.0, 234.0, 9.0, "0.96")
        .bold(16.0, 254.0, 11.0, "TOTAL")
        .bold(140.0, 254.0, 11.0, "GBP 13.75")
        .text(16.0, 272.0, 8.5, "Card payment")
        .text(172.0, 272.0, 8.5, "13.75")
        .text(50.0, 300.0, 8.5, "Thank you for visiting!")
        .into_pdf()
}

/// The receipt as a phone photographs it: drawn at 200 DPI, tilted a little, on a darker table
/// under uneven light, with sensor noise, stored sideways with an EXIF tag saying so (as phones
/// store portrait photos), JPEG-compressed. No text layer: Pagewise reads it by OCR.
fn photo_of(pdf: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let path = scratch.path().join("receipt.pdf");
    std::fs::write(&path, pdf)?;
    let mut lib = Library::open(&scratch.path().join("library"))?;
    let opts = AddOptions { skip_ocr: true, ..Default::default() };
    let added = lib.add_files(&[path], &opts, &AtomicBool::new(false), &mut |_| {})?;
    let id = added[0].doc_id.clone().ok_or("the receipt did not import")?;
    let paper = image::DynamicImage::ImageRgba8(lib.render_page(&id, 1, 200.0)?).to_rgb8();
    // On a table, with a margin around it.
    let (pw, ph) = paper.dimensions();
    let (w, h) = (pw + 160, ph + 160);
    let mut photo = RgbImage::from_pixel(w, h, Rgb([92, 84, 74]));
    // Tilted by about 1.5 degrees around the photo's centre.
    let (sin, cos) = (0.026f32, 0.99966f32);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut noise = 0x2545_f491u32;
    for (x, y, px) in photo.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cos * dx + sin * dy + pw as f32 / 2.0, -sin * dx + cos * dy + ph as f32 / 2.0);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < pw && (sy as u32) < ph {
            let p = paper.get_pixel(sx as u32, sy as u32);
            // Slightly warm paper.
            *px = Rgb([p[0], (p[1] as f32 * 0.98) as u8, (p[2] as f32 * 0.93) as u8]);
        }
        // Light falling off towards the bottom right, and noise (xorshift).
        let light = 1.0 - 0.22 * (x as f32 / w as f32 + y as f32 / h as f32) / 2.0;
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let grain = (noise % 17) as f32 - 8.0;
        for c in px.0.iter_mut() {
            *c = (*c as f32 * light + grain).clamp(0.0, 255.0) as u8;
        }
    }
    let photo = imageops::blur(&photo, 0.6);
    // Stored sideways: the camera's sensor rows, turned upright by the viewer (EXIF 6).
    let stored = imageops::rotate270(&photo);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 82).encode_image(&stored)?;
    Ok(with_exif_orientation(&jpeg, 6))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new("assets/demo");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("invoice-northwind.pdf"), invoice())?;
    std::fs::write(dir.join("two-column-article.pdf"), article(3, 7))?;
    std::fs::write(dir.join("photo-of-a-receipt.jpg"), photo_of(&receipt())?)?;
    Ok(())
}
