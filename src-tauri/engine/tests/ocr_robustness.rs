//! Bad and odd input for the OCR reader: blank pages, noise, 1-pixel strips, a 30-megapixel
//! photo, pages lying sideways or upside down, non-Latin script. Each gives a clear result
//! (possibly empty) and never a panic. Skips visibly when the models are not installed.

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use pagewise_engine::read::ocr::reader::Reader;

fn reader() -> Option<&'static Reader> {
    match Reader::get() {
        Ok(r) => Some(r),
        Err(e) => {
            println!("SKIP OCR robustness: {e}");
            None
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn invoice() -> RgbImage {
    image::open(repo().join("tests/fixtures/detector/invoice-p1.png")).unwrap().to_rgb8()
}

fn texts(lines: &[pagewise_engine::read::ocr::reader::TextLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

#[test]
fn blank_noise_and_degenerate_images_read_as_nothing() {
    let Some(reader) = reader() else { return };
    let blank = RgbImage::from_pixel(800, 600, Rgb([255, 255, 255]));
    let r = reader.read_upright(&blank).unwrap();
    assert!(r.lines.is_empty() && r.turned == 0, "a blank page: {:?}", texts(&r.lines));
    // Pseudo-random noise (a fixed LCG, so the test is repeatable): no panic, few if any lines.
    let mut state = 12345u32;
    let noise = RgbImage::from_fn(640, 480, |_, _| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let v = (state >> 24) as u8;
        Rgb([v, v, v])
    });
    let r = reader.read_upright(&noise).unwrap();
    assert!(r.lines.len() < 10, "noise read as {} lines", r.lines.len());
    for (w, h) in [(2000, 1), (1, 2000), (1, 1), (7, 7)] {
        let strip = RgbImage::from_pixel(w, h, Rgb([0, 0, 0]));
        assert!(reader.read_upright(&strip).unwrap().lines.is_empty(), "{w}x{h}");
    }
}

#[test]
fn pages_lying_sideways_or_upside_down_are_turned_upright() {
    let Some(reader) = reader() else { return };
    let page = invoice();
    for (img, want) in [
        (page.clone(), 0),
        (image::imageops::rotate180(&page), 180),
        (image::imageops::rotate90(&page), 270),
        (image::imageops::rotate270(&page), 90),
    ] {
        let r = reader.read_upright(&img).unwrap();
        assert_eq!(r.turned, want, "{:?}", texts(&r.lines));
        assert_eq!((r.width, r.height), page.dimensions(), "the upright size");
        assert!(texts(&r.lines).contains(&"Northwind Office Supplies"), "turned {want}: {:?}", texts(&r.lines));
    }
}

#[test]
fn a_30_megapixel_photo_is_brought_down_and_read() {
    let Some(reader) = reader() else { return };
    // The invoice three times its size on a 6000 x 5000 canvas (a phone photo of a page).
    let page = invoice();
    let big =
        image::imageops::resize(&page, page.width() * 3, page.height() * 3, image::imageops::FilterType::Triangle);
    let mut photo = RgbImage::from_pixel(6000, 5000, Rgb([250, 250, 245]));
    image::imageops::overlay(&mut photo, &big, 500, 100);
    let r = reader.read_upright(&photo).unwrap();
    let found = texts(&r.lines);
    assert!(found.iter().any(|t| t.contains("INVOICE")), "{found:?}");
    let title = r.lines.iter().find(|l| l.text.contains("Northwind")).expect("the vendor line");
    assert!(title.bbox[0] > 500.0 && title.bbox[1] > 100.0, "boxes in the photo's own pixels: {:?}", title.bbox);
}

#[test]
fn non_latin_script_is_read() {
    let Some(reader) = reader() else { return };
    // A SROIE receipt with a line of Chinese (../shared/eval, not redistributable).
    let path = repo().join("../shared/eval/fields-receipts-sroie/images/000.jpg");
    if !path.is_file() {
        println!("SKIP non-Latin OCR: ../shared/eval is absent");
        return;
    }
    let r = reader.read_upright(&image::open(path).unwrap().to_rgb8()).unwrap();
    let cjk = r.lines.iter().filter(|l| l.text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))).count();
    assert!(cjk >= 1, "{:?}", texts(&r.lines));
}
