//! Reading pages without a text layer (PP-OCRv6 small: DB text detection, text-line orientation,
//! CTC text recognition). The networks run on the [`crate::nn`] graph runner; [`db`] turns the
//! detector's probability map into text boxes, [`ctc`] the recogniser's scores into strings,
//! [`reader`] puts them together over a page image (turning it upright first), and [`page`]
//! gives the words in page points for import and for re-reading on request.

pub mod ctc;
pub mod db;
pub mod page;
pub mod reader;

pub use page::{read_image, OcrPage};
