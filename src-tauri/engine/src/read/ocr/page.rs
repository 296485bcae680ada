//! A page image read by OCR into the shape every reader returns ([`Reading`]): words with boxes
//! in page points, as the text layer gives them, so reading order, layout, search and
//! extraction treat scans alike.

use image::RgbImage;

use super::reader::{Reader, TextLine, Timings};
use crate::model::{BBox, PageSource, Reading, Word};
use crate::Result;

/// Pixels on the longer side of a PDF page drawn for the reader (about 190 DPI on A4).
pub const PDF_PIXELS: f32 = 1600.0;

/// Font size from an OCR line box's height (the box holds ascenders and descenders).
const SIZE_PER_LINE_HEIGHT: f32 = 0.8;

/// A page read from its pixels.
#[derive(Debug, Clone)]
pub struct OcrPage {
    /// The upright page's words in page points (source `ocr`), and how far it was turned.
    pub reading: Reading,
    /// The lines as the reader found them (boxes in page points), with their confidence.
    pub lines: Vec<TextLine>,
    pub timings: Timings,
}

/// Read a page image whose pixels measure `points_per_pixel` points each.
pub fn read_image(reader: &Reader, img: &RgbImage, points_per_pixel: f32) -> Result<OcrPage> {
    let upright = reader.read_upright(img)?;
    let s = points_per_pixel;
    let mut words = Vec::new();
    let mut reader_lines = Vec::new();
    let mut lines = upright.lines;
    for line in &mut lines {
        line.bbox = line.bbox.map(|v| v * s);
        let size = (line.bbox[3] - line.bbox[1]) * SIZE_PER_LINE_HEIGHT;
        let first = words.len() as u32;
        for w in &mut line.words {
            w.bbox = w.bbox.map(|v| v * s);
            words.push(Word { text: w.text.clone(), bbox: BBox::from(w.bbox).rounded(), size, bold: false });
        }
        reader_lines.push((first..words.len() as u32).collect());
    }
    let reading = Reading {
        source: PageSource::Ocr,
        width: upright.width as f32 * s,
        height: upright.height as f32 * s,
        turned: upright.turned,
        words,
        reader_lines,
        ..Default::default()
    };
    Ok(OcrPage { reading, lines, timings: upright.timings })
}
