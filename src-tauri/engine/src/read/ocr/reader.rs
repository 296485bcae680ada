//! The PP-OCR pipeline on a page image (PP-OCRv6 small detector and recogniser, PP-LCNet
//! text-line orientation), set up as RapidOCR sets these models up except where said: the DB
//! detector finds text lines, each line is cut out (turned level where it slants), scaled to
//! the recogniser's height and read, and CTC decoding (a prefix beam search, where RapidOCR
//! decodes greedily) gives its text and where each character sits, which splits the line into
//! words with boxes. Lines read with low confidence are dropped (below 0.7, where PP-OCR drops
//! below 0.5: between the two lie mostly stamps, logos and smudges read as text; on the SROIE
//! receipts the character error rate went from 3.60 % to 3.33 %).
//!
//! Pages lying sideways or upside down are turned upright first ([`Reader::read_upright`]):
//! mostly tall text boxes mean the page lies on its side; the text-line orientation classifier
//! votes on whether the (turned) lines read upside down.

use std::time::{Duration, Instant};

use image::RgbImage;
use rayon::prelude::*;

use super::ctc::{beam_search, Alphabet, Decoded, Scores};
use super::db::{self, bounds};
use crate::loaded::Loaded;
use crate::nn::elementwise::with_f32;
use crate::nn::graph::{nchw, nchw_batch, Graph};
use crate::nn::prep::{bgr_planes, resize_bilinear};
use crate::{models, Error, Result};

/// The detector sees large photos with their longer side brought down to this...
const DET_MAX_SIDE: f32 = 2000.0;
/// ... and small images with their shorter side brought up to this, so small text is seen,
const DET_MIN_SHORT_SIDE: f32 = 736.0;
/// ... but never longer than this (a long, narrow receipt).
const DET_LIMIT_SIDE: f32 = 4000.0;
const REC_HEIGHT: usize = 48;
/// Lines narrower than this are padded (PP-OCR's recogniser input is 48 x 320).
const REC_MIN_WIDTH: usize = 320;
const REC_MAX_WIDTH: usize = 3200;
/// At most this many lines in one run of the recogniser (RapidOCR's batch).
const REC_BATCH: usize = 6;
const MIN_CONFIDENCE: f32 = 0.7;
/// The orientation classifier's input (PP-LCNet textline orientation) and how many lines vote.
const CLS_WIDTH: usize = 160;
const CLS_HEIGHT: usize = 80;
const CLS_VOTERS: usize = 9;

/// A line of text read from pixels, with its box (in the image's pixels) and its words.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextLine {
    pub text: String,
    pub bbox: [f32; 4],
    pub confidence: f32,
    pub words: Vec<TextWord>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextWord {
    pub text: String,
    pub bbox: [f32; 4],
}

/// Time spent in each network, for benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    pub det: Duration,
    pub cls: Duration,
    pub rec: Duration,
}

impl std::ops::AddAssign for Timings {
    fn add_assign(&mut self, o: Timings) {
        self.det += o.det;
        self.cls += o.cls;
        self.rec += o.rec;
    }
}

/// A page read upright: how far it was turned (degrees clockwise), the upright pixels' size,
/// and its lines in those pixels.
#[derive(Debug, Clone)]
pub struct UprightPage {
    pub turned: u16,
    pub width: u32,
    pub height: u32,
    pub lines: Vec<TextLine>,
    pub timings: Timings,
}

pub struct Reader {
    det: Graph,
    cls: Graph,
    rec: Graph,
    /// What the recogniser's output holds (logits where its final softmax was dropped).
    scores: Scores,
    alphabet: Alphabet,
}

static READER: Loaded<Reader> = Loaded::new();

fn model_error(detail: impl ToString) -> Error {
    Error::Model { model: "ocr".into(), detail: detail.to_string() }
}

impl Reader {
    /// The process's reader, loaded on first use (`ModelMissing` when a network is not
    /// installed; tried again on the next call).
    pub fn get() -> Result<&'static Reader> {
        READER.get_or_load(|| {
            let [det, cls, rec] = ["ocr-det", "ocr-cls", "ocr-rec"].map(models::model_file);
            let (det, cls, rec) = (det?, cls?, rec?);
            let graph = |p: &std::path::Path| {
                Graph::from_onnx(&std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?)
                    .map_err(|e| e.to_string())
            };
            let load = || -> std::result::Result<Reader, String> {
                let mut rec = graph(&rec)?;
                // Decoding needs each step's best class and its probability only.
                let scores = if rec.drop_final_softmax(3) { Scores::Logits } else { Scores::Probabilities };
                // The recogniser carries its dictionary (the characters, one a line).
                let keys =
                    rec.metadata.get("character").ok_or("the recogniser has no dictionary (metadata 'character')")?;
                let alphabet = Alphabet::from_keys(keys, keys.lines().count() + 2)?;
                Ok(Reader { det: graph(&det)?, cls: graph(&cls)?, rec, scores, alphabet })
            };
            load().map_err(model_error)
        })
    }

    /// The lines of text on `img` as it stands, top to bottom.
    #[cfg(any(test, feature = "dev-api"))] // without turning upright: the parity tests
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>> {
        let mut t = Timings::default();
        let boxes = self.detect(img, &mut t)?;
        self.recognise(img, &boxes, &mut t)
    }

    /// Turn the page upright (0, 90, 180 or 270 degrees clockwise) and read it.
    pub fn read_upright(&self, img: &RgbImage) -> Result<UprightPage> {
        let mut t = Timings::default();
        let mut boxes = self.detect(img, &mut t)?;
        let mut turned = 0u16;
        let mut upright = None;
        if lies_sideways(&boxes) {
            let img = image::imageops::rotate90(img);
            boxes = self.detect(&img, &mut t)?;
            turned = 90;
            upright = Some(img);
        }
        let current = upright.as_ref().unwrap_or(img);
        if self.upside_down(current, &boxes, &mut t)? {
            let (w, h) = (current.width() as f32, current.height() as f32);
            boxes = boxes.iter().map(|b| b.turned_over(w, h)).collect();
            upright = Some(image::imageops::rotate180(current));
            turned += 180;
        }
        let current = upright.as_ref().unwrap_or(img);
        let lines = self.recognise(current, &boxes, &mut t)?;
        Ok(UprightPage { turned, width: current.width(), height: current.height(), lines, timings: t })
    }

    /// Text line boxes in `img`'s pixels.
    fn detect(&self, img: &RgbImage, t: &mut Timings) -> Result<Vec<LineBox>> {
        let start = Instant::now();
        let (w, h) = (img.width() as usize, img.height() as usize);
        if w < 8 || h < 8 {
            return Ok(Vec::new());
        }
        let (longer, shorter) = (w.max(h) as f32, w.min(h) as f32);
        let mut scale = (DET_MAX_SIDE / longer).min(1.0);
        if shorter * scale < DET_MIN_SHORT_SIDE {
            scale = (DET_MIN_SHORT_SIDE / shorter).min(DET_LIMIT_SIDE / longer);
        }
        let (dw, dh) = (round32(w as f32 * scale), round32(h as f32 * scale));
        let data = bgr_planes(&resize_bilinear(img, dw, dh), dw, dh, dw, [0.5; 3], [0.5; 3]);
        let prob = self.det.run(nchw(data, 3, dh, dw).map_err(model_error)?).map_err(model_error)?;
        let prob: Vec<f32> = prob[0].flatten_all().and_then(|t| t.to_vec1()).map_err(model_error)?;
        let (sx, sy) = (w as f32 / dw as f32, h as f32 / dh as f32);
        let boxes = db::boxes(&prob, dw, dh, db::PP_OCR_V6);
        t.det += start.elapsed();
        // Whole pixels, as RapidOCR rounds its boxes.
        Ok(boxes
            .iter()
            .map(|b| LineBox {
                bbox: [
                    (b.x0 * sx).round(),
                    (b.y0 * sy).round(),
                    (b.x1 * sx).round().min(w as f32),
                    (b.y1 * sy).round().min(h as f32),
                ],
                slant: b.slant.map(|q| q.map(|[x, y]| [x * sx, y * sy])),
            })
            .collect())
    }

    /// Whether most of the widest lines read upside down (the orientation classifier's vote).
    fn upside_down(&self, img: &RgbImage, boxes: &[LineBox], t: &mut Timings) -> Result<bool> {
        let start = Instant::now();
        let mut lines: Vec<&[f32; 4]> =
            boxes.iter().map(|b| &b.bbox).filter(|b| b[2] - b[0] >= 2.0 * (b[3] - b[1])).collect();
        lines.sort_by(|a, b| (b[2] - b[0]).total_cmp(&(a[2] - a[0])));
        let mut votes = Vec::new();
        for b in lines.into_iter().take(CLS_VOTERS) {
            let Some(crop) = crop(img, *b) else { continue };
            // As RapidOCR feeds this model: height 80, width kept up to 160 and padded with 0.
            let w =
                ((CLS_HEIGHT as f32 * crop.width() as f32 / crop.height() as f32).ceil() as usize).clamp(1, CLS_WIDTH);
            let data = bgr_planes(&resize_bilinear(&crop, w, CLS_HEIGHT), w, CLS_HEIGHT, CLS_WIDTH, [0.5; 3], [0.5; 3]);
            let out = self.cls.run(nchw(data, 3, CLS_HEIGHT, CLS_WIDTH).map_err(model_error)?).map_err(model_error)?;
            let p: Vec<f32> = out[0].flatten_all().and_then(|t| t.to_vec1()).map_err(model_error)?;
            if let [up, down] = p[..] {
                votes.push(down / (up + down).max(1e-6));
            }
        }
        t.cls += start.elapsed();
        // One or two lines must be sure; more lines decide by their mean.
        let mean = votes.iter().sum::<f32>() / votes.len().max(1) as f32;
        Ok(!votes.is_empty() && mean > if votes.len() >= 3 { 0.6 } else { 0.9 })
    }

    /// Read each box; drop empty and unsure lines; top to bottom. Lines that the recogniser
    /// sees at the same width are read together (one network run for several lines). Unlike
    /// RapidOCR, a line is never padded out to a wider neighbour's width: the recogniser's
    /// sequence neck attends over the padding too, and reading lines padded to their batch's
    /// widest put the SROIE receipts' character error rate at 3.16 %, 3.59 % with batches of
    /// twelve, against 3.12 % read at their own width.
    fn recognise(&self, img: &RgbImage, boxes: &[LineBox], t: &mut Timings) -> Result<Vec<TextLine>> {
        let start = Instant::now();
        let mut crops: Vec<(&LineBox, RgbImage)> = boxes.iter().filter_map(|b| b.pixels(img).map(|c| (b, c))).collect();
        crops.sort_by(|a, b| aspect(&a.1).total_cmp(&aspect(&b.1)));
        let mut lines = Vec::new();
        for batch in crops.chunk_by(|a, b| rec_width(&a.1) == rec_width(&b.1)).flat_map(|same| same.chunks(REC_BATCH)) {
            let read = self.read_lines(&batch.iter().map(|(_, c)| c).collect::<Vec<_>>())?;
            for ((found, crop), (decoded, pixels_per_step)) in batch.iter().zip(read) {
                if decoded.text.trim().is_empty() || decoded.confidence < MIN_CONFIDENCE {
                    continue;
                }
                let words = found.words(&decoded, pixels_per_step, crop);
                lines.push(TextLine { text: decoded.text, bbox: found.bbox, confidence: decoded.confidence, words });
            }
        }
        t.rec += start.elapsed();
        lines.sort_by(|a, b| a.bbox[1].total_cmp(&b.bbox[1]).then(a.bbox[0].total_cmp(&b.bbox[0])));
        Ok(lines)
    }

    /// Each line decoded, with how many of its crop's pixels one decoder step spans. The lines
    /// are scaled to the recogniser's height and padded on the right to the widest.
    fn read_lines(&self, lines: &[&RgbImage]) -> Result<Vec<(Decoded, f32)>> {
        let widths: Vec<usize> = lines.iter().map(|l| scaled_width(l)).collect();
        let width = widths.iter().copied().max().unwrap_or(0).max(REC_MIN_WIDTH);
        let mut data = Vec::with_capacity(lines.len() * 3 * REC_HEIGHT * width);
        for (line, &rw) in lines.iter().zip(&widths) {
            // (v / 255 - 0.5) / 0.5; the padding to the right stays 0.
            data.extend(bgr_planes(&resize_bilinear(line, rw, REC_HEIGHT), rw, REC_HEIGHT, width, [0.5; 3], [0.5; 3]));
        }
        let out = self
            .rec
            .run(nchw_batch(data, lines.len(), 3, REC_HEIGHT, width).map_err(model_error)?)
            .map_err(model_error)?;
        let (_, steps, classes) = out[0].dims3().map_err(model_error)?;
        if classes != self.alphabet.len() {
            // Decoding would read nothing: say so rather than return empty lines.
            return Err(model_error(format!(
                "the recogniser has {classes} classes but its dictionary {}",
                self.alphabet.len()
            )));
        }
        let per_line = (steps * classes).max(1);
        // Lines decoded in parallel, straight from the output (a copy of it cost as much).
        with_f32(&out[0], |scores| {
            lines
                .par_iter()
                .zip(&widths)
                .zip(scores.par_chunks(per_line))
                .map(|((line, &rw), p)| {
                    (
                        beam_search(p, steps, &self.alphabet, self.scores),
                        width as f32 / steps.max(1) as f32 * line.width() as f32 / rw as f32,
                    )
                })
                .collect()
        })
        .map_err(model_error)
    }
}

/// A line's width once scaled to the recogniser's height.
fn scaled_width(line: &RgbImage) -> usize {
    ((REC_HEIGHT as f32 * aspect(line)).ceil() as usize).clamp(1, REC_MAX_WIDTH)
}

/// The width the recogniser sees a line at alone: its own, padded to the narrowest input.
fn rec_width(line: &RgbImage) -> usize {
    scaled_width(line).max(REC_MIN_WIDTH)
}

/// Width over height.
fn aspect(img: &RgbImage) -> f32 {
    img.width() as f32 / img.height().max(1) as f32
}

/// A text line found by the detector: its upright box, and where the line slants, the corners
/// of its slanted rectangle (top left, top right, bottom right, bottom left along the line).
#[derive(Debug, Clone, PartialEq)]
struct LineBox {
    bbox: [f32; 4],
    slant: Option<[[f32; 2]; 4]>,
}

impl LineBox {
    /// The line's pixels: its box, or its slanted rectangle turned level.
    fn pixels(&self, img: &RgbImage) -> Option<RgbImage> {
        match &self.slant {
            None => crop(img, self.bbox),
            Some(q) => level(img, q),
        }
    }

    /// The words of `d`, read from this line's `crop`, on the page.
    fn words(&self, d: &Decoded, pixels_per_step: f32, crop: &RgbImage) -> Vec<TextWord> {
        let Some(q) = &self.slant else { return split_words(d, pixels_per_step, self.bbox) };
        // Placed along the level crop, then their corners on the page.
        let (cw, ch) = (crop.width() as f32, crop.height() as f32);
        let mut words = split_words(d, pixels_per_step, [0.0, 0.0, cw, ch]);
        // Within the line's box, which stops at the page's edges.
        let line = self.bbox;
        for w in &mut words {
            let corners = [[w.bbox[0], 0.0], [w.bbox[2], 0.0], [w.bbox[2], ch], [w.bbox[0], ch]]
                .map(|[a, b]| along(q, a / cw, b / ch));
            let [x0, y0, x1, y1] = bounds(&corners);
            let (x0, y0) = (x0.max(line[0]), y0.max(line[1]));
            w.bbox = [x0, y0, x1.min(line[2]).max(x0), y1.min(line[3]).max(y0)];
        }
        words
    }

    /// The same line on the page turned by 180 degrees (`w` x `h` pixels).
    fn turned_over(&self, w: f32, h: f32) -> LineBox {
        let b = self.bbox;
        let turn = |[x, y]: [f32; 2]| [w - x, h - y];
        LineBox {
            bbox: [w - b[2], h - b[3], w - b[0], h - b[1]],
            slant: self.slant.map(|q| [turn(q[2]), turn(q[3]), turn(q[0]), turn(q[1])]),
        }
    }
}

/// The point at fractions `a` along and `b` across a rectangle given by its corners.
fn along(q: &[[f32; 2]; 4], a: f32, b: f32) -> [f32; 2] {
    let [o, right, _, down] = *q;
    [o[0] + a * (right[0] - o[0]) + b * (down[0] - o[0]), o[1] + a * (right[1] - o[1]) + b * (down[1] - o[1])]
}

/// A slanted rectangle's pixels turned level, sampled bilinearly (edges repeated), at the
/// rectangle's own size.
fn level(img: &RgbImage, q: &[[f32; 2]; 4]) -> Option<RgbImage> {
    let dist = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let (w, h) = (dist(q[0], q[1]).round() as u32, dist(q[0], q[3]).round() as u32);
    if w == 0 || h == 0 || img.width() == 0 || img.height() == 0 {
        return None;
    }
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let px = |x: i64, y: i64| img.get_pixel(x.clamp(0, iw - 1) as u32, y.clamp(0, ih - 1) as u32).0;
    Some(RgbImage::from_fn(w, h, |u, v| {
        // Pixel centres: (u + 0.5, v + 0.5) in the level image, less half a pixel on the page.
        let [x, y] = along(q, (u as f32 + 0.5) / w as f32, (v as f32 + 0.5) / h as f32);
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (a, b, c, d) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
        image::Rgb(std::array::from_fn(|k| {
            let top = a[k] as f32 * (1.0 - fx) + b[k] as f32 * fx;
            let bottom = c[k] as f32 * (1.0 - fx) + d[k] as f32 * fx;
            (top * (1.0 - fy) + bottom * fy).round() as u8
        }))
    }))
}

/// The pixels of `bbox` (clamped to the image), if any.
fn crop(img: &RgbImage, bbox: [f32; 4]) -> Option<RgbImage> {
    let [x0, y0, x1, y1] = bbox.map(|v| v.max(0.0) as u32);
    let (x1, y1) = (x1.min(img.width()), y1.min(img.height()));
    (x1 > x0 && y1 > y0).then(|| image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image())
}

/// Mostly tall, narrow text boxes: the page lies on its side.
fn lies_sideways(boxes: &[LineBox]) -> bool {
    let tall = boxes.iter().filter(|b| b.bbox[3] - b.bbox[1] > 2.0 * (b.bbox[2] - b.bbox[0])).count();
    let wide = boxes.iter().filter(|b| b.bbox[2] - b.bbox[0] > 2.0 * (b.bbox[3] - b.bbox[1])).count();
    tall >= 3 && tall > 2 * wide
}

/// Split a decoded line at its spaces; each word spans from its first to its last character's
/// step, half a character pitch either side; the line's ends bound the first and last word.
fn split_words(d: &Decoded, pixels_per_step: f32, line: [f32; 4]) -> Vec<TextWord> {
    let chars: Vec<char> = d.text.chars().collect();
    let n = chars.len().min(d.steps.len());
    let pitch = if n > 1 { (d.steps[n - 1] - d.steps[0]) as f32 / (n - 1) as f32 } else { 1.0 };
    let at = |step: usize, side: f32| line[0] + (step as f32 + 0.5 + side * pitch.max(1.0) / 2.0) * pixels_per_step;
    let mut words = Vec::new();
    let mut i = 0;
    while i < n {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && !chars[i].is_whitespace() {
            i += 1;
        }
        let x0 = if words.is_empty() { line[0] } else { at(d.steps[start], -1.0).clamp(line[0], line[2]) };
        let x1 = if chars[i..n].iter().all(|c| c.is_whitespace()) {
            line[2]
        } else {
            at(d.steps[i - 1], 1.0).clamp(x0, line[2])
        };
        words.push(TextWord { text: chars[start..i].iter().collect(), bbox: [x0, line[1], x1, line[3]] });
    }
    words
}

/// The nearest multiple of 32, at least 32 (the detector's input grid).
fn round32(v: f32) -> usize {
    ((v / 32.0).round() as usize).max(1) * 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_take_their_place_along_the_line() {
        // "ab cd" read at steps 1, 2, 5, 6 with 10 pixels a step on a line from x = 100 to 200.
        let d = Decoded { text: "ab cd".into(), confidence: 0.9, steps: vec![1, 2, 4, 5, 6] };
        let words = split_words(&d, 10.0, [100.0, 0.0, 200.0, 20.0]);
        assert_eq!(words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(), ["ab", "cd"]);
        assert_eq!(words[0].bbox[0], 100.0, "the first word starts the line");
        assert_eq!(words[1].bbox[2], 200.0, "the last word ends it");
        assert!(words[0].bbox[2] <= words[1].bbox[0], "{words:?}");
        assert!((words[0].bbox[2] - 130.0).abs() < 2.0 && (words[1].bbox[0] - 150.0).abs() < 2.0, "{words:?}");
        assert!(split_words(&Decoded::default(), 10.0, [0.0, 0.0, 10.0, 10.0]).is_empty());
    }

    #[test]
    fn a_line_reads_the_same_in_its_batch_as_alone() {
        let reader = match Reader::get() {
            Ok(r) => r,
            Err(e) => return println!("SKIP batch test: {e}"),
        };
        // The top of our rendered demo invoice: its heading, addresses and table head.
        let page = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/detector/invoice-p1.png"))
            .unwrap()
            .to_rgb8();
        let top = image::imageops::crop_imm(&page, 0, 0, page.width(), page.height() / 3).to_image();
        let mut t = Timings::default();
        let boxes = reader.detect(&top, &mut t).unwrap();
        let together = reader.recognise(&top, &boxes, &mut t).unwrap();
        let mut crops: Vec<_> = boxes.iter().filter_map(|b| b.pixels(&top)).collect();
        crops.sort_by_key(rec_width);
        let batched = crops.chunk_by(|a, b| rec_width(a) == rec_width(b)).filter(|same| same.len() > 1).count();
        assert!(batched > 0, "no two of the {} lines share a width: the test would test nothing", boxes.len());
        assert!(!together.is_empty());
        for line in &together {
            let found = boxes.iter().find(|b| b.bbox == line.bbox).unwrap();
            let alone = reader.read_lines(&[&found.pixels(&top).unwrap()]).unwrap().remove(0).0;
            assert_eq!(alone.text, line.text, "{:?}", line.bbox);
            assert!(
                (alone.confidence - line.confidence).abs() < 1e-4,
                "{}: {} alone, {} in its batch",
                line.text,
                alone.confidence,
                line.confidence
            );
        }
    }

    #[test]
    fn a_slanted_line_is_turned_level_and_its_words_placed_on_the_page() {
        // A dark band 8 pixels thick rising 1 in 10 across a white page, and the rectangle
        // 16 pixels thick around it from x = 20 to 180.
        let centre = |x: f32| 50.0 - 0.1 * x;
        let page = RgbImage::from_fn(200, 80, |x, y| {
            image::Rgb(if (y as f32 + 0.5 - centre(x as f32 + 0.5)).abs() < 4.0 { [0; 3] } else { [255; 3] })
        });
        let theta = (-0.1f32).atan();
        let v = [-theta.sin() * 8.0, theta.cos() * 8.0];
        let (a, b) = ([20.0, centre(20.0)], [180.0, centre(180.0)]);
        let q = [
            [a[0] - v[0], a[1] - v[1]],
            [b[0] - v[0], b[1] - v[1]],
            [b[0] + v[0], b[1] + v[1]],
            [a[0] + v[0], a[1] + v[1]],
        ];
        let line = LineBox { bbox: bounds(&q), slant: Some(q) };
        let level = line.pixels(&page).unwrap();
        assert_eq!((level.width(), level.height()), (161, 16));
        let row_mean =
            |y: u32| (0..level.width()).map(|x| level.get_pixel(x, y).0[0] as f32).sum::<f32>() / level.width() as f32;
        for y in 0..16 {
            let m = row_mean(y);
            match y {
                5..=10 => assert!(m < 30.0, "row {y} of the band is dark across the crop: {m}"),
                0..=2 | 13..=15 => assert!(m > 225.0, "row {y} outside the band is white: {m}"),
                _ => {}
            }
        }
        // "ab cd" read at steps 1, 2, 4, 5, 6, 10 crop pixels a step: the first word lies left
        // of the second and lower on the page (the line rises), both within the line's box.
        let d = Decoded { text: "ab cd".into(), confidence: 0.9, steps: vec![1, 2, 4, 5, 6] };
        let words = line.words(&d, 10.0, &level);
        assert_eq!(words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(), ["ab", "cd"]);
        let (first, second) = (words[0].bbox, words[1].bbox);
        assert!(first[2] <= second[0] + 1e-3 && first[3] > second[3], "{first:?} {second:?}");
        for w in &words {
            assert!(
                w.bbox[0] >= line.bbox[0] - 1e-3
                    && w.bbox[2] <= line.bbox[2] + 1e-3
                    && w.bbox[1] >= line.bbox[1] - 1e-3
                    && w.bbox[3] <= line.bbox[3] + 1e-3
            );
        }
        // Turned over with the page, the rectangle still runs left to right from its top left.
        let over = line.turned_over(200.0, 80.0);
        let o = over.slant.unwrap();
        assert!(o[1][0] > o[0][0] && o[3][1] > o[0][1], "{o:?}");
        let back = over.turned_over(200.0, 80.0).slant.unwrap();
        assert!(
            back.iter().flatten().zip(q.iter().flatten()).all(|(a, b)| (a - b).abs() < 1e-3),
            "turned back: {back:?}"
        );
        assert_eq!(over.pixels(&image::imageops::rotate180(&page)).unwrap(), level);
    }

    #[test]
    fn sideways_pages_have_mostly_tall_boxes() {
        let wide = LineBox { bbox: [0.0, 0.0, 100.0, 10.0], slant: None };
        let tall = LineBox { bbox: [0.0, 0.0, 10.0, 100.0], slant: None };
        assert!(lies_sideways(&[tall.clone(), tall.clone(), tall.clone(), wide.clone()]));
        assert!(!lies_sideways(&[tall.clone(), tall.clone(), wide.clone(), wide]));
        assert!(!lies_sideways(&[tall.clone(), tall]), "two boxes are not enough to tell");
        assert!(!lies_sideways(&[]));
    }
}
