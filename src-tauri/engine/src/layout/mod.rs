//! Layout analysis: a page's regions (title, text, lists, tables, figures, captions, headers,
//! footers, formulas, key-value pairs), each with its box, words, text, confidence, source and
//! place in the reading order.
//!
//! - [`geometric`]: from the text layer (words, fonts, ruling lines, pictures); no model.
//! - [`detector`]: from pixels, for pages without a text layer (PicoDet on candle).
//! - [`joins`]: captions and formulas that run on past their blocks.
//! - [`fuse`]: pages read from pixels, the detector's regions fused with the geometric analysis
//!   of the OCR lines.
//! - [`pairs`]: form key-values on pages read from pixels, by a fitted model.
//! - [`tables`]: table grids (ruled and unruled) and their CSV.
//! - [`text_shapes`]: what a run of text looks like (a label, a list marker, a caption, a
//!   heading, a formula, a page number).
//! - [`markdown`]: the page as Markdown following its regions.
//! - [`overlay`]: the layout drawn over a page image.
//! - [`analyze`]: per document, with repeated headers/footers found across pages; which
//!   analyzer runs on which page (the types are the ground floor's: `crate::model`).

pub mod analyze;
pub mod detector;
pub mod fuse;
pub mod geometric;
pub mod joins;
pub mod markdown;
pub mod overlay;
pub mod pairs;
pub mod pieces;
pub mod tables;
pub mod text_shapes;
