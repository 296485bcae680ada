//! # pagewise-engine
//!
//! The document engine behind the Pagewise desktop app and the `pagewise` CLI. No UI, no async
//! runtime: a synchronous API that the shell runs off its UI thread.
//!
//! Data flows one way: **import -> render -> read -> layout -> index -> ask / extract -> export**.
//!
//! - [`source`]: read a file, sniff its type from the bytes, hash it (sha256 = identity).
//! - [`pipeline`]: import files into the [`store::Library`]; progress events; per-file outcomes.
//! - [`pdfium`]: the one thread that owns pdfium.
//! - [`read`]: words with boxes from the text layer; plain reading order ([`read::order`]).
//! - [`layout`]: regions, reading order, tables, key-value pairs (geometric or detector).
//! - [`models`]: the local model store (`.models/`, fetched from pinned registry packages).
//! - [`nn`]: the ONNX graph runner on candle that the models use.
//! - [`ocr`]: reading pages without a text layer (PP-OCRv6 on the graph runner), on import.
//! - [`render`]: page bitmaps at a DPI; cached thumbnails.
//! - [`index`]: full-text search (FTS5).
//! - [`ask`]: questions answered from a page's words and layout, each answer with its evidence.
//! - [`extract`]: schemas (presets and TOML) filled in per document, stored with evidence.
//! - [`export`]: CSV (RFC 4180, formula-safe) and JSON of extracted fields.
//! - [`store`]: the SQLite library (WAL, embedded migrations) and the stored originals.
//! - [`vlm`]: vision-language models on candle (Qwen3-VL), the image processor, chat templates.
//!
//! Geometry is in page points, origin top-left (see [`doc`]). Errors are typed ([`Error`]) and
//! carry what and where; a failed file or page is data in a report, never a crash.

pub mod ask;
pub mod doc;
mod error;
pub mod export;
pub mod extract;
pub mod index;
pub mod layout;
pub mod models;
pub mod nn;
pub mod ocr;
pub mod pdfium;
pub mod pipeline;
pub mod read;
pub mod render;
pub mod source;
pub mod store;
pub mod vlm;

/// Tensor element types, for choosing a model's precision.
pub use candle_core::DType;
pub use doc::{BBox, DocId, Document, FileKind, Line, Page, PageNo, PageSource, Word};
pub use error::{Error, ErrorReport, Result};
pub use nn::tune_process;
pub use store::Library;
