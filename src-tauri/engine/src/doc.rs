//! The data model every stage shares.
//!
//! Geometry: every box is a [`BBox`] in **page points (1/72 inch), origin at the top-left of the
//! page as it is displayed** (after the page's /Rotate), for PDFs and images alike. An image page
//! measures its pixels at the image's stated DPI (72 when it states none). Conversion happens only
//! at the edges (the text-layer reader, the renderer).

use serde::{Deserialize, Serialize};

use crate::read::graphics::Graphics;

/// A document's identity: the lowercase hex sha256 of its bytes.
/// (A newtype: serde writes it as the bare string.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DocId(pub String);

impl DocId {
    pub fn short(&self) -> &str {
        &self.0[..12.min(self.0.len())]
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 1-based page number, as people count pages.
pub type PageNo = u32;

/// Serialised as `[x0, y0, x1, y1]`.
#[derive(Debug, Clone, Copy, PartialEq, ts_rs::TS)]
#[ts(export, type = "[number, number, number, number]")]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox { x0: x0.min(x1), y0: y0.min(y1), x1: x0.max(x1), y1: y0.max(y1) }
    }
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn union(&self, o: &BBox) -> BBox {
        BBox { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    pub fn overlap_area(&self, o: &BBox) -> f32 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        w.max(0.0) * h.max(0.0)
    }
    pub fn grow(&self, by: f32) -> BBox {
        BBox::new(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)
    }
    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
    pub fn contains_point(&self, (x, y): (f32, f32)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
    pub fn h_overlap(&self, o: &BBox) -> f32 {
        (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0)
    }
    /// Length of the overlap of the two boxes' vertical extents.
    pub fn v_overlap(&self, o: &BBox) -> f32 {
        (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0)
    }
    /// Rounded to 0.01 pt so stored and printed boxes stay short and stable.
    pub fn rounded(&self) -> BBox {
        let r = |v: f32| (v * 100.0).round() / 100.0;
        BBox { x0: r(self.x0), y0: r(self.y0), x1: r(self.x1), y1: r(self.y1) }
    }
}

impl From<BBox> for [f32; 4] {
    fn from(b: BBox) -> Self {
        [b.x0, b.y0, b.x1, b.y1]
    }
}

impl Serialize for BBox {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.x0, self.y0, self.x1, self.y1].serialize(s)
    }
}

impl<'de> Deserialize<'de> for BBox {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <[f32; 4]>::deserialize(d).map(BBox::from)
    }
}

impl From<[f32; 4]> for BBox {
    fn from(a: [f32; 4]) -> Self {
        BBox::new(a[0], a[1], a[2], a[3])
    }
}

/// A word as a reader saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Word {
    pub text: String,
    pub bbox: BBox,
    /// Font size in points (0 when the reader does not know it).
    #[serde(default)]
    pub size: f32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bold: bool,
}

/// A line of words, in reading order; `words` index into the page's word list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Line {
    pub bbox: BBox,
    pub words: Vec<u32>,
    /// The block (paragraph or column piece) this line belongs to, in reading order.
    pub block: u32,
}

/// Where a page's words came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "kebab-case")]
pub enum PageSource {
    /// The PDF's own text layer.
    TextLayer,
    /// Read from the page's pixels by the OCR reader (a scan, a photo, or on request).
    Ocr,
    /// Read from the page's pixels by a vision-language model (on request).
    Vlm,
    /// No text layer and not read yet (the reader model was missing or not asked for).
    NeedsReader,
    /// Reading this page failed; `Page::error` says why.
    Failed,
}

impl PageSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            PageSource::TextLayer => "text-layer",
            PageSource::Ocr => "ocr",
            PageSource::Vlm => "vlm",
            PageSource::NeedsReader => "needs-reader",
            PageSource::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text-layer" => Some(PageSource::TextLayer),
            "ocr" => Some(PageSource::Ocr),
            "vlm" => Some(PageSource::Vlm),
            "needs-reader" => Some(PageSource::NeedsReader),
            "failed" => Some(PageSource::Failed),
            _ => None,
        }
    }
}

/// One page as the library keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub page: PageNo,
    pub width: f32,
    pub height: f32,
    /// The page's /Rotate (0, 90, 180, 270), already applied to `width`, `height` and boxes.
    pub rotation: u16,
    /// Degrees (clockwise) the reader turned the page's pixels to read it upright (a scan lying
    /// on its side or upside down); applied to `width`, `height`, boxes and rendering.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub turned: u16,
    pub source: PageSource,
    /// Page text in reading order: lines joined by '\n', blocks separated by a blank line.
    pub text: String,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
    /// Ruling lines, pictures and drawings (PDF pages); layout analysis uses them.
    #[serde(default, skip_serializing_if = "Graphics::is_empty")]
    pub graphics: Graphics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorReport>,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

/// What kind of file a document came from (sniffed from its bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Webp,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpeg",
            FileKind::Tiff => "tiff",
            FileKind::Webp => "webp",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [FileKind::Pdf, FileKind::Png, FileKind::Jpeg, FileKind::Tiff, FileKind::Webp]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
    pub fn extension(&self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Tiff => "tif",
            other => other.as_str(),
        }
    }
}

/// A document in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Document {
    pub id: DocId,
    /// File name as the user had it.
    pub name: String,
    /// Where it was imported from.
    pub origin: String,
    pub kind: FileKind,
    #[ts(type = "number")]
    pub bytes: u64,
    pub pages: u32,
    pub encrypted: bool,
    /// Seconds since the Unix epoch.
    #[ts(type = "number")]
    pub added_at: i64,
    /// Pages per source, e.g. how many were read by OCR or still wait for a reader.
    pub text_pages: u32,
    pub ocr_pages: u32,
    pub needs_reader_pages: u32,
    pub failed_pages: u32,
}
