//! Readers turn a page into words with boxes. The text-layer reader handles digital PDFs;
//! pages without a text layer are marked `needs-reader` until a pixel reader (a later stage)
//! reads them.

pub mod graphics;
pub mod order;
pub mod text_layer;
