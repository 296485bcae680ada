//! The documents a user imports: images (type sniffing, then every page decoded as import does)
//! and PDFs through pdfium (the calls import makes: open, security handler, each page's text
//! layer, a drawing of the page).

use std::io::Cursor;
use std::path::Path;

use pagewise_engine::pdfium;
use pagewise_engine::read::text_layer;
use pagewise_engine::source;
use pagewise_engine::{FileKind, Result};
use pagewise_testkit::{jpeg_with_orientation, multipage_tiff, png_page, webp_page, PdfBuilder, PdfPage};
use pdfium_render::prelude::*;

use super::{outcome_name, Harness};

pub const IMAGE_TOKENS: &[&[u8]] = &[
    b"\x89PNG\r\n\x1a\n",
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"pHYs",
    b"tRNS",
    b"iCCP",
    b"eXIf",
    b"acTL",
    b"fcTL",
    b"fdAT",
    b"\xFF\xD8\xFF",
    b"\xFF\xC0",
    b"\xFF\xC2",
    b"\xFF\xC4",
    b"\xFF\xDA",
    b"\xFF\xDB",
    b"\xFF\xDD",
    b"\xFF\xE1",
    b"\xFF\xD9",
    b"Exif\0\0",
    b"JFIF\0",
    b"II*\0",
    b"MM\0*",
    b"\x01\x00\x03\x00", // TIFF ImageWidth, SHORT
    b"\x01\x01\x03\x00", // ImageLength
    b"\x01\x03\x03\x00", // Compression
    b"\x01\x11\x04\x00", // StripOffsets, LONG
    b"\x01\x17\x04\x00", // StripByteCounts
    b"\x01\x12\x03\x00", // Orientation
    b"\x01\x1A\x05\x00", // XResolution, RATIONAL
    b"RIFF",
    b"WEBP",
    b"VP8 ",
    b"VP8L",
    b"VP8X",
    b"ALPH",
    b"ANIM",
    b"ANMF",
];

pub const PDF_TOKENS: &[&[u8]] = &[
    b"%PDF-1.7\n",
    b" 0 obj\n",
    b"endobj\n",
    b"stream\n",
    b"\nendstream",
    b"xref\n0 1\n0000000000 65535 f \n",
    b"trailer\n",
    b"startxref\n",
    b"%%EOF",
    b"<<",
    b">>",
    b"[",
    b"]",
    b" 0 R",
    b"/Type",
    b"/Catalog",
    b"/Pages",
    b"/Page",
    b"/Kids",
    b"/Count",
    b"/Parent",
    b"/Root",
    b"/Size",
    b"/Prev",
    b"/Length",
    b"/Filter",
    b"/FlateDecode",
    b"/ASCIIHexDecode",
    b"/LZWDecode",
    b"/DCTDecode",
    b"/DecodeParms",
    b"/Predictor",
    b"/ObjStm",
    b"/XRef",
    b"/W",
    b"/Index",
    b"/MediaBox",
    b"/CropBox",
    b"/Rotate",
    b"/Contents",
    b"/Resources",
    b"/Font",
    b"/BaseFont",
    b"/Encoding",
    b"/ToUnicode",
    b"/XObject",
    b"/Image",
    b"/Width",
    b"/Height",
    b"/BitsPerComponent",
    b"/ColorSpace",
    b"/Encrypt",
    b"/Annots",
    b"/AcroForm",
    b"/OpenAction",
    b"/JavaScript",
    b"BT",
    b"ET",
    b"Tf",
    b"Td",
    b"Tj",
    b"TJ",
    b"Tm",
    b"cm",
    b"Do",
    b"q",
    b"Q",
    b"re f",
];

/// How many pages of a fuzzed PDF are read: enough for page-tree bugs, bounded per input.
const MAX_PAGES: i32 = 4;
/// The long side of the drawing, in pixels: small, as the draw calls are what is tested.
const DRAW_PIXELS: f32 = 96.0;

/// Small images of each type import takes, with the headers that matter (EXIF orientation,
/// stated DPI, several TIFF pages).
pub fn image_seeds() -> Vec<Vec<u8>> {
    let page = image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([(x * 10) as u8, (y * 15) as u8, 128]));
    let encode = |img: image::DynamicImage, format| {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format).expect("encode a seed image");
        out
    };
    let (rgb, grey) = (image::DynamicImage::ImageRgb8(page.clone()), image::DynamicImage::ImageRgb8(page).grayscale());
    vec![
        png_page(24, 16),
        encode(rgb.clone(), image::ImageFormat::Png),
        encode(grey.clone(), image::ImageFormat::Png),
        jpeg_with_orientation(24, 16, 6),
        encode(rgb.clone(), image::ImageFormat::Jpeg),
        encode(grey, image::ImageFormat::Jpeg),
        webp_page(24, 16),
        multipage_tiff(&[(16, 12), (8, 20)]),
        encode(rgb, image::ImageFormat::Tiff),
    ]
}

/// Sniff, then decode every page as import does (and the first to RGB, as the reader gets it).
pub fn image(input: &[u8]) -> String {
    let path = Path::new("fuzz-input");
    let Some(kind) = source::sniff(input) else {
        return "not a known type".into();
    };
    if kind == FileKind::Pdf {
        return "a PDF".into();
    }
    match source::image_pages(path, input, kind) {
        Ok(pages) => {
            let first = source::decode_image_page(path, input, kind, 0).map(|img| img.to_rgb8());
            let turned = pages.iter().any(|p| p.orientation > 1);
            format!("{kind:?}: {} page(s), turned {turned}, first {}", pages.len().min(4), first.is_ok())
        }
        Err(e) => format!("{kind:?}: {}", outcome_name(&e.to_string())),
    }
}

/// PDFs from the testkit (text, rotation, rules, a scanned page) and the demo invoice: small
/// ones, as a dense page costs pdfium ten times the time and finds nothing the structure does not.
pub fn pdf_seeds() -> Vec<Vec<u8>> {
    let text = PdfPage::a4().text(50.0, 60.0, 12.0, "Invoice 2024-001").rule(50.0, 70.0, 300.0, 70.0);
    vec![
        PdfBuilder::new().page(text.clone()).build(),
        PdfBuilder::new().page(text.clone().rotate(90)).page(PdfPage::new(200.0, 100.0).scanned(20, 10)).build(),
        PdfBuilder::new().page(PdfPage::new(300.0, 300.0).bold(10.0, 20.0, 30.0, "Big")).build(),
        include_bytes!("../../../../../assets/demo/invoice-northwind.pdf").to_vec(),
    ]
}

/// Inputs go to the process's pdfium thread, as import's do.
pub fn pdf_harness() -> Result<Harness> {
    let worker = pdfium::worker()?;
    Ok(Box::new(move |input: &[u8]| {
        let bytes = input.to_vec();
        // A panic in pdfium-render is caught on the pdfium thread; it is raised again here, so
        // that it is a finding rather than an error message.
        let outcome = worker.run(move |pdfium| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_pdf(pdfium, bytes)))
                .map_err(pagewise_engine::panic_message)
        });
        match outcome {
            Ok(Ok(name)) => name,
            Ok(Err(panic)) => panic!("on the pdfium thread: {panic}"),
            Err(e) => panic!("the pdfium worker failed: {e}"),
        }
    }))
}

fn read_pdf(pdfium: &Pdfium, bytes: Vec<u8>) -> String {
    let doc = match pdfium.load_pdf_from_byte_vec(bytes, None) {
        Ok(doc) => doc,
        Err(e) => return outcome_name(&format!("open: {e:?}")),
    };
    let encrypted =
        !matches!(doc.permissions().security_handler_revision(), Ok(PdfSecurityHandlerRevision::Unprotected));
    let pages = doc.pages();
    let (mut with_words, mut failed, mut drawn) = (0, Vec::new(), 0);
    for index in 0..pages.len().min(MAX_PAGES) {
        let page = match pages.get(index) {
            Ok(page) => page,
            Err(e) => {
                failed.push(outcome_name(&format!("page: {e:?}")));
                continue;
            }
        };
        match text_layer::read_words(&page) {
            Ok(reading) => {
                with_words += usize::from(!reading.words.is_empty());
                let scale = DRAW_PIXELS / reading.width.max(reading.height).max(1.0);
                let (w, h) = ((reading.width * scale).round().max(1.0), (reading.height * scale).round().max(1.0));
                let config = PdfRenderConfig::new()
                    .set_target_width(w as i32)
                    .set_maximum_height(h as i32 + 1)
                    .render_form_data(true)
                    .render_annotations(true);
                match page.render_with_config(&config).and_then(|b| b.as_image()) {
                    Ok(_) => drawn += 1,
                    Err(e) => failed.push(outcome_name(&format!("draw: {e:?}"))),
                }
            }
            Err(e) => failed.push(outcome_name(&format!("text layer: {e:?}"))),
        }
    }
    failed.sort();
    failed.dedup();
    format!(
        "{} page(s), encrypted {encrypted}, with words {}, drawn {}, failures {failed:?}",
        pages.len().min(MAX_PAGES + 1),
        with_words.min(2),
        drawn.min(2)
    )
}
