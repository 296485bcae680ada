//! A page's layout: regions (title, text, lists, tables, figures, captions, headers, footers,
//! formulas, key-value pairs), each with its box, words, text, confidence, source and place in
//! the reading order; and which analyzer made it.

use serde::{Deserialize, Serialize};

use super::{BBox, ErrorReport};

/// The DocLayNet label set plus Key-Value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub enum Label {
    Caption,
    Footnote,
    Formula,
    #[serde(rename = "List-item")]
    ListItem,
    #[serde(rename = "Page-footer")]
    PageFooter,
    #[serde(rename = "Page-header")]
    PageHeader,
    Picture,
    #[serde(rename = "Section-header")]
    SectionHeader,
    Table,
    Text,
    Title,
    #[serde(rename = "Key-Value")]
    KeyValue,
}

impl Label {
    pub const ALL: [Label; 12] = [
        Label::Caption,
        Label::Footnote,
        Label::Formula,
        Label::ListItem,
        Label::PageFooter,
        Label::PageHeader,
        Label::Picture,
        Label::SectionHeader,
        Label::Table,
        Label::Text,
        Label::Title,
        Label::KeyValue,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Label::Caption => "Caption",
            Label::Footnote => "Footnote",
            Label::Formula => "Formula",
            Label::ListItem => "List-item",
            Label::PageFooter => "Page-footer",
            Label::PageHeader => "Page-header",
            Label::Picture => "Picture",
            Label::SectionHeader => "Section-header",
            Label::Table => "Table",
            Label::Text => "Text",
            Label::Title => "Title",
            Label::KeyValue => "Key-Value",
        }
    }

    /// A distinct colour per label for overlays (RGB).
    pub fn colour(&self) -> [u8; 3] {
        match self {
            Label::Caption => [230, 126, 34],
            Label::Footnote => [127, 140, 141],
            Label::Formula => [142, 68, 173],
            Label::ListItem => [39, 174, 96],
            Label::PageFooter => [149, 165, 166],
            Label::PageHeader => [149, 165, 166],
            Label::Picture => [241, 196, 15],
            Label::SectionHeader => [192, 57, 43],
            Label::Table => [41, 128, 185],
            Label::Text => [52, 73, 94],
            Label::Title => [231, 76, 60],
            Label::KeyValue => [22, 160, 133],
        }
    }
}

/// Which analyzer produced a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum RegionSource {
    Geometric,
    Detector,
}

/// One cell of a table grid; rows and columns count from 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Cell {
    pub row: u32,
    pub col: u32,
    pub row_span: u32,
    pub col_span: u32,
    pub bbox: BBox,
    pub text: String,
}

/// A label and its value (`Invoice No: 123`, a label above its value, a two-cell row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    pub key_bbox: BBox,
    pub value_bbox: BBox,
    /// How likely the pairing is (the fitted forms model's chance; the rule's confidence).
    #[serde(default)]
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Region {
    pub label: Label,
    pub bbox: BBox,
    /// Place in the page's reading order, from 0.
    pub order: u32,
    pub text: String,
    /// Indices into the page's words, in reading order.
    pub words: Vec<u32>,
    pub confidence: f32,
    pub source: RegionSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<Cell>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<KeyValue>,
}

impl Region {
    pub fn new(label: Label, bbox: BBox, words: Vec<u32>, text: String, confidence: f32, source: RegionSource) -> Self {
        Region { label, bbox, order: 0, text, words, confidence, source, cells: None, pair: None }
    }

    /// Rows x columns of a table region.
    pub fn grid_size(&self) -> Option<(u32, u32)> {
        let cells = self.cells.as_ref()?;
        let rows = cells.iter().map(|c| c.row + c.row_span).max().unwrap_or(0);
        let cols = cells.iter().map(|c| c.col + c.col_span).max().unwrap_or(0);
        Some((rows, cols))
    }
}

/// The layout of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PageLayout {
    pub page: u32,
    pub width: f32,
    pub height: f32,
    pub regions: Vec<Region>,
    /// Form key-values found by the fitted forms model on pages read from pixels (the
    /// key-values of the text layer's rules are regions); [`PageLayout::key_values`] has both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

impl PageLayout {
    /// Every key-value of the page: the regions' and the forms model's.
    pub fn key_values(&self) -> impl Iterator<Item = &KeyValue> {
        self.regions.iter().filter_map(|r| r.pair.as_ref()).chain(&self.pairs)
    }
}

/// Which analyzer to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutMode {
    /// Geometric where the page has a text layer, the detector on pages read from pixels.
    #[default]
    Auto,
    Geometric,
    /// The detector on every page (to check the geometric analyzer, or for odd PDFs).
    Detector,
}

impl LayoutMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            LayoutMode::Auto => "auto",
            LayoutMode::Geometric => "geometric",
            LayoutMode::Detector => "detector",
        }
    }
}
