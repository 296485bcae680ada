//! Reading pages without a text layer (PP-OCR: DB text detection, CTC text recognition).
//! The networks run on the [`crate::nn`] graph runner; [`db`] turns the detector's
//! probability map into text boxes, [`ctc`] the recogniser's scores into strings, [`reader`]
//! puts them together over a page image. Not yet wired into import (pages without a text
//! layer are still `needs-reader`).

pub mod ctc;
pub mod db;
pub mod reader;
