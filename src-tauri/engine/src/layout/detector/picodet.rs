//! PicoDet, the anchor-free detector behind PaddleDetection's layout models: pre-processing
//! (as rapid-layout does it: BGR, bilinear resize to the input size, ImageNet normalisation;
//! see [`crate::nn::prep`]),
//! the network (an ONNX graph run on candle), and decoding of its raw heads (distribution focal
//! boxes per stride, per-class hard NMS), back to the pixels of the original image.

use candle_core::Tensor;
use image::RgbImage;

use crate::nn::graph::{nchw, Graph};
use crate::nn::prep::{bgr_planes, resize_bilinear, IMAGENET_MEAN, IMAGENET_STD};
use crate::nn::{Error, Result};

const STRIDES: [usize; 4] = [8, 16, 32, 64];
/// Candidates kept per stride before NMS, candidates per class in NMS, detections per class.
const TOP_K: usize = 1000;
const NMS_CANDIDATES: usize = 200;
const KEEP_PER_CLASS: usize = 100;

/// One detected region, in pixels of the image it was run on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    pub class: usize,
    pub score: f32,
    pub bbox: [f32; 4],
}

pub struct PicoDet {
    graph: Graph,
    pub classes: Vec<String>,
    pub input_h: usize,
    pub input_w: usize,
}

impl PicoDet {
    /// Compile the detector from ONNX bytes; class names come from the model's `character`
    /// metadata (one per line).
    pub fn from_onnx(bytes: &[u8], input_h: usize, input_w: usize) -> Result<Self> {
        let graph = Graph::from_onnx(bytes)?;
        let classes: Vec<String> =
            graph.metadata.get("character").map(|s| s.lines().map(str::to_string).collect()).unwrap_or_default();
        if classes.is_empty() {
            return Err(Error::Malformed("the model does not name its classes (metadata 'character')".into()));
        }
        Ok(PicoDet { graph, classes, input_h, input_w })
    }

    /// The network's input for an image: 1 x 3 x H x W, BGR, normalised.
    pub fn preprocess(&self, img: &RgbImage) -> Result<Tensor> {
        let (h, w) = (self.input_h, self.input_w);
        let resized = resize_bilinear(img, w, h);
        nchw(bgr_planes(&resized, w, h, w, IMAGENET_MEAN, IMAGENET_STD), 3, h, w)
    }

    /// The network's raw outputs (per stride: class scores, then box distributions).
    pub fn forward(&self, input: Tensor) -> Result<Vec<Tensor>> {
        self.graph.run(input)
    }

    /// Regions on `img` scoring above `conf`, after NMS at `iou`.
    pub fn detect(&self, img: &RgbImage, conf: f32, iou: f32) -> Result<Vec<Detection>> {
        let (ow, oh) = img.dimensions();
        if ow == 0 || oh == 0 {
            return Ok(Vec::new());
        }
        let outputs = self.forward(self.preprocess(img)?)?;
        let mut dets = decode(&outputs, self.classes.len(), self.input_w, conf, iou)?;
        let (sx, sy) = (self.input_w as f32 / ow as f32, self.input_h as f32 / oh as f32);
        for d in &mut dets {
            let b = &mut d.bbox;
            b[0] = b[0].clamp(0.0, self.input_w as f32) / sx;
            b[2] = b[2].clamp(0.0, self.input_w as f32) / sx;
            b[1] = b[1].clamp(0.0, self.input_h as f32) / sy;
            b[3] = b[3].clamp(0.0, self.input_h as f32) / sy;
        }
        Ok(dets)
    }
}

/// Raw heads (per stride: class scores, then box distributions) to boxes in input pixels, for
/// a model of `ncls` classes and input `input_w` wide. Non-finite scores or boxes are dropped.
pub fn decode(outputs: &[Tensor], ncls: usize, input_w: usize, conf: f32, iou: f32) -> Result<Vec<Detection>> {
    let levels = outputs.len() / 2;
    if levels == 0 || levels > STRIDES.len() || outputs.len() % 2 != 0 {
        return Err(Error::Malformed(format!(
            "expected score and box outputs per stride, got {} outputs",
            outputs.len()
        )));
    }
    let mut boxes: Vec<[f32; 4]> = Vec::new();
    let mut scores: Vec<Vec<f32>> = Vec::new();
    for (level, &stride) in STRIDES.iter().enumerate().take(levels) {
        let s = outputs[level].squeeze(0).and_then(|t| t.to_vec2::<f32>())?;
        let d = outputs[level + levels].squeeze(0).and_then(|t| t.to_vec2::<f32>())?;
        let fw = input_w.div_ceil(stride);
        if s.len() != d.len() || s.first().is_some_and(|r| r.len() != ncls) {
            return Err(Error::Malformed(format!(
                "stride {stride}: score and box outputs do not match the model's {ncls} classes"
            )));
        }
        let mut idx: Vec<usize> = (0..s.len()).collect();
        let best = |i: usize| s[i].iter().copied().filter(|v| v.is_finite()).fold(f32::NEG_INFINITY, f32::max);
        idx.sort_by(|&a, &b| best(b).total_cmp(&best(a)));
        for &i in idx.iter().take(TOP_K) {
            let (cx, cy) = (((i % fw) as f32 + 0.5) * stride as f32, ((i / fw) as f32 + 0.5) * stride as f32);
            let bins = d[i].len() / 4;
            let dist: Vec<f32> =
                (0..4).map(|side| expected_bin(&d[i][side * bins..(side + 1) * bins]) * stride as f32).collect();
            let b = [cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]];
            if b.iter().all(|v| v.is_finite()) {
                boxes.push(b);
                scores.push(s[i].clone());
            }
        }
    }
    let mut out = Vec::new();
    for class in 0..ncls {
        let mut cand: Vec<(f32, [f32; 4])> =
            scores.iter().zip(&boxes).filter(|(s, _)| s[class] > conf).map(|(s, b)| (s[class], *b)).collect();
        cand.sort_by(|a, b| b.0.total_cmp(&a.0));
        cand.truncate(NMS_CANDIDATES);
        let mut kept: Vec<(f32, [f32; 4])> = Vec::new();
        for (score, b) in cand {
            if kept.len() == KEEP_PER_CLASS {
                break;
            }
            if kept.iter().all(|(_, k)| iou_of(k, &b) <= iou) {
                kept.push((score, b));
            }
        }
        out.extend(kept.into_iter().map(|(score, bbox)| Detection { class, score, bbox }));
    }
    Ok(out)
}

/// The expected value of a softmax distribution over bins 0..n.
fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().enumerate().map(|(k, e)| k as f32 * e).sum::<f32>() / sum
}

pub fn iou_of(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let inter = area(&[a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]);
    inter / (area(a) + area(b) - inter + 1e-5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_skips_nan_scores_and_boxes() {
        use candle_core::{Device, Tensor};
        // One stride-8 level of a 16 x 16 input: 4 cells, 2 classes, 4 sides x 8 bins.
        let mut scores = vec![f32::NAN; 4 * 2];
        scores[2] = 0.9; // cell 1, class 0
        scores[4] = 0.95; // cell 2, class 0, but its box is NaN
        let mut boxes = vec![0f32; 4 * 32];
        boxes[2 * 32] = f32::NAN;
        let s = Tensor::from_vec(scores, (1, 4, 2), &Device::Cpu).unwrap();
        let b = Tensor::from_vec(boxes, (1, 4, 32), &Device::Cpu).unwrap();
        let dets = decode(&[s, b], 2, 16, 0.5, 0.5).unwrap();
        assert_eq!(dets.len(), 1, "{dets:?}");
        assert!(dets[0].bbox.iter().all(|v| v.is_finite()));
        let all_nan = Tensor::from_vec(vec![f32::NAN; 8], (1, 4, 2), &Device::Cpu).unwrap();
        let nan_boxes = Tensor::from_vec(vec![f32::NAN; 128], (1, 4, 32), &Device::Cpu).unwrap();
        assert!(decode(&[all_nan, nan_boxes], 2, 16, 0.5, 0.5).unwrap().is_empty());
        assert!(decode(&[], 2, 16, 0.5, 0.5).is_err());
    }

    #[test]
    fn expected_bin_of_a_peaked_distribution_is_its_peak() {
        assert!((expected_bin(&[0.0, 0.0, 50.0, 0.0]) - 2.0).abs() < 1e-4);
    }

    #[test]
    fn iou_of_identical_and_disjoint_boxes() {
        assert!((iou_of(&[0.0, 0.0, 10.0, 10.0], &[0.0, 0.0, 10.0, 10.0]) - 1.0).abs() < 1e-3);
        assert_eq!(iou_of(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
    }
}
