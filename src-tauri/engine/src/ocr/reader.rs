//! The PP-OCRv5 pipeline on a page image: the DB detector finds text lines, each line is cut
//! out, scaled to the recogniser's height and read, and CTC decoding gives its text. Lines read
//! with low confidence are dropped, as PP-OCR does (0.5).

use std::sync::OnceLock;

use image::RgbImage;

use super::ctc::{decode, Alphabet};
use super::db;
use crate::nn::graph::{nchw, Graph};
use crate::nn::prep::{bgr_planes, resize_bilinear, IMAGENET_MEAN, IMAGENET_STD};
use crate::{models, Error, Result};

/// The detector sees the page with its longer side at most this long (PP-OCR's default).
const DET_MAX_SIDE: usize = 960;
const REC_HEIGHT: usize = 48;
/// Lines narrower than this are padded (PP-OCR's recogniser input is 48 x 320).
const REC_MIN_WIDTH: usize = 320;
const REC_MAX_WIDTH: usize = 3200;
const MIN_CONFIDENCE: f32 = 0.5;

/// A line of text read from pixels, with its box in the image's pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextLine {
    pub text: String,
    pub bbox: [f32; 4],
    pub confidence: f32,
}

pub struct Reader {
    det: Graph,
    rec: Graph,
    alphabet: Alphabet,
}

static READER: OnceLock<std::result::Result<Reader, String>> = OnceLock::new();

fn model_error(detail: String) -> Error {
    Error::Model { model: "ocr".into(), detail }
}

impl Reader {
    /// The process's reader, loaded on first use; `ModelMissing` says how to install it.
    pub fn get() -> Result<&'static Reader> {
        let paths = ["ocr-det", "ocr-rec", "ocr-keys"].map(models::model_file);
        let [det, rec, keys] = paths;
        let (det, rec, keys) = (det?, rec?, keys?);
        READER
            .get_or_init(|| {
                let load = |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
                let (det, rec) = (Graph::from_onnx(&load(&det)?)?, Graph::from_onnx(&load(&rec)?)?);
                let keys = String::from_utf8(load(&keys)?).map_err(|e| format!("dictionary: {e}"))?;
                // The v5 recogniser has one class per dictionary line.
                let classes = keys.lines().count();
                Ok(Reader { det, rec, alphabet: Alphabet::from_keys(&keys, classes)? })
            })
            .as_ref()
            .map_err(|d| model_error(d.clone()))
    }

    /// The lines of text on `img`, top to bottom.
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        if w < 8 || h < 8 {
            return Ok(Vec::new());
        }
        let scale = (DET_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
        let (dw, dh) = (round32(w as f32 * scale), round32(h as f32 * scale));
        let data = bgr_planes(&resize_bilinear(img, dw, dh), dw, dh, dw, IMAGENET_MEAN, IMAGENET_STD);
        let prob = self.det.run(nchw(data, 3, dh, dw).map_err(model_error)?).map_err(model_error)?;
        let prob: Vec<f32> = prob[0].flatten_all().and_then(|t| t.to_vec1()).map_err(|e| model_error(e.to_string()))?;
        let (sx, sy) = (w as f32 / dw as f32, h as f32 / dh as f32);
        let mut lines = Vec::new();
        for b in db::boxes(&prob, dw, dh, db::BINARY_THRESHOLD, db::BOX_THRESHOLD, db::UNCLIP_RATIO) {
            let bbox = [b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy];
            let (text, confidence) = self.read_line(img, bbox)?;
            if !text.trim().is_empty() && confidence >= MIN_CONFIDENCE {
                lines.push(TextLine { text, bbox, confidence });
            }
        }
        lines.sort_by(|a, b| a.bbox[1].total_cmp(&b.bbox[1]).then(a.bbox[0].total_cmp(&b.bbox[0])));
        Ok(lines)
    }

    fn read_line(&self, img: &RgbImage, bbox: [f32; 4]) -> Result<(String, f32)> {
        let [x0, y0, x1, y1] = bbox.map(|v| v.max(0.0) as u32);
        let (x1, y1) = (x1.min(img.width()), y1.min(img.height()));
        if x1 <= x0 || y1 <= y0 {
            return Ok((String::new(), 0.0));
        }
        let line = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
        let ratio = line.width() as f32 / line.height() as f32;
        let rw = ((REC_HEIGHT as f32 * ratio).ceil() as usize).clamp(1, REC_MAX_WIDTH);
        let width = rw.max(REC_MIN_WIDTH);
        // (v / 255 - 0.5) / 0.5; the padding to the right stays 0.
        let data = bgr_planes(&resize_bilinear(&line, rw, REC_HEIGHT), rw, REC_HEIGHT, width, [0.5; 3], [0.5; 3]);
        let out = self.rec.run(nchw(data, 3, REC_HEIGHT, width).map_err(model_error)?).map_err(model_error)?;
        let (_, steps, _) = out[0].dims3().map_err(|e| model_error(e.to_string()))?;
        let probs: Vec<f32> = out[0].flatten_all().and_then(|t| t.to_vec1()).map_err(|e| model_error(e.to_string()))?;
        Ok(decode(&probs, steps, &self.alphabet))
    }
}

/// Pixels on the longer side of a PDF page rendered for reading (about 190 DPI on A4).
const PDF_PIXELS: f32 = 1600.0;

/// Read page `page` of a library document from its pixels: lines with boxes in page points.
/// Nothing is stored; the page's own text layer (if any) is left as it is.
pub fn read_page(lib: &crate::Library, id: &crate::DocId, page: u32) -> Result<Vec<TextLine>> {
    let reader = Reader::get()?;
    let meta = lib.page(id, page)?;
    let img = image::DynamicImage::ImageRgba8(crate::render::page_pixels(lib, id, page, PDF_PIXELS)?).to_rgb8();
    let scale = meta.width / img.width().max(1) as f32;
    let mut lines = reader.read(&img)?;
    for l in &mut lines {
        l.bbox = l.bbox.map(|v| v * scale);
    }
    Ok(lines)
}

/// The nearest multiple of 32, at least 32 (the detector's input grid).
fn round32(v: f32) -> usize {
    ((v / 32.0).round() as usize).max(1) * 32
}
