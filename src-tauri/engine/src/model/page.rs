//! A page as readers leave it: words with boxes, lines in reading order, drawn graphics, and
//! where its words came from.

use serde::{Deserialize, Serialize};

use super::{BBox, ErrorReport, PageNo, TextDirection};

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
    #[default]
    NeedsReader,
    /// Reading this page failed; `Page::error` says why.
    Failed,
}

#[cfg(test)]
impl Page {
    /// Page 1, 600 x 800 points, with these words and lines: the page tests build.
    pub(crate) fn of_words(source: PageSource, words: Vec<Word>, lines: Vec<Line>) -> Page {
        Page {
            page: 1,
            width: 600.0,
            height: 800.0,
            rotation: 0,
            turned: 0,
            photo_corners: None,
            source,
            text: String::new(),
            words,
            lines,
            graphics: Default::default(),
            error: None,
        }
    }
}

impl PageSource {
    /// Were the page's words read from its pixels (by OCR or the vision-language reader)?
    pub fn read_from_pixels(&self) -> bool {
        matches!(self, PageSource::Ocr | PageSource::Vlm)
    }

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
    /// Where the page was found in a photo of it: the page's size, boxes and pixels are the
    /// straightened page's, and the photo stays the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_corners: Option<Corners>,
    pub source: PageSource,
    /// Page text in reading order: lines joined by '\n', blocks separated by a blank line.
    pub text: String,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
    /// Ruling lines, pictures and drawings (PDF pages); layout analysis uses them.
    #[serde(default, skip_serializing_if = "Graphics::is_empty")]
    pub graphics: Graphics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// A page's corners in a photo of it, in the photo's upright pixels (EXIF orientation applied):
/// top-left, top-right, bottom-right, bottom-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Corners(pub [(f32, f32); 4]);

fn is_zero(v: &u16) -> bool {
    *v == 0
}

/// A PDF page's drawn graphics, as layout analysis needs them: ruling lines (table borders,
/// separators), embedded pictures, and clusters of vector drawing (charts, diagrams).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graphics {
    /// Thin horizontal or vertical strokes and rectangle edges, in page points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<BBox>,
    /// Embedded raster images and included forms (figures placed from other PDFs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<BBox>,
    /// Areas of vector drawing (charts, diagrams): touching paths, at least one of them
    /// neither a rule nor an outlined rectangle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drawings: Vec<BBox>,
    /// The page's fillable form fields (AcroForm widgets) with what is filled in: read as they
    /// are stored, not from their drawing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FormField>,
}

impl Graphics {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.pictures.is_empty() && self.drawings.is_empty() && self.fields.is_empty()
    }
}

/// A filled-in PDF form field's widget on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// The field's name (its full name in the form: "applicant.name").
    pub name: String,
    pub kind: FormFieldKind,
    /// What is filled in: the text, the chosen option, or for a check box or radio button
    /// "checked"/"unchecked" (a checked radio button's export value where it has one).
    pub value: String,
    /// The widget's box in page points.
    pub bbox: BBox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormFieldKind {
    Text,
    Checkbox,
    Radio,
    Choice,
    Signature,
    Button,
}

/// What any reader returns for one page (the text layer, the OCR reader, a vision-language
/// model): words with boxes in points of the upright page, before reading order is decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub source: PageSource,
    pub width: f32,
    pub height: f32,
    /// The page's /Rotate, already applied to the size and boxes.
    pub rotation: u16,
    /// Degrees (clockwise) the pixels were turned to read them upright.
    pub turned: u16,
    /// Where the page was found in a photo of it (read straightened).
    pub photo_corners: Option<Corners>,
    pub words: Vec<Word>,
    /// The words the reader saw as one line (OCR: one detected line of text each), as indices
    /// into `words`; empty where a reader gives words alone, and rows are then found from the
    /// boxes. A slanted scan's neighbouring lines overlap in their boxes, never in these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reader_lines: Vec<Vec<u32>>,
    /// The direction most of the page's text runs in.
    pub direction: TextDirection,
    /// Ruling lines, pictures and drawings (the text layer's reader only).
    pub graphics: Graphics,
}
