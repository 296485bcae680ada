//! Readers turn a page into words with boxes. The text-layer reader handles digital PDFs;
//! pages without a text layer are read from their pixels by [`crate::ocr`] (or marked
//! `needs-reader` when that cannot run yet).

pub mod graphics;
pub mod order;
pub mod text_layer;
