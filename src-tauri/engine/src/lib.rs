//! # pagewise-engine
//!
//! The document engine behind the Pagewise desktop app, the `pagewise` CLI and (later) the
//! Python binding. No UI, no async runtime: a synchronous API that a shell runs off its UI thread.
//!
//! Data flows one way: **import → read → layout → index → ask / extract → export**. The layers,
//! each importing only those below it:
//!
//! - **service** ([`Library`]): opens a library, imports, loads pages, pixels and models, calls
//!   the stages, keeps their results and records jobs. The front ends' one way in.
//! - **store** (`store`): SQLite (WAL, numbered migrations), the originals and thumbnails. All
//!   SQL lives there; it knows only the ground floor.
//! - **worker**: where untrusted files are opened (pdfium with the text-layer reader, the image
//!   decoders, PDF repair), in a child process of the front end when it asked for that.
//! - **stages**, pure (inputs are arguments, results are returned): `read` (text layer, OCR,
//!   PaddleOCR-VL; each returns a [`Reading`]), `layout`, `ask`, `extract`, `export`, and what
//!   they share: `values` (typed values), `embed` (sentence embeddings, search by meaning).
//! - **runtime**: `nn` (the ONNX graph runner on candle), `vlm` (vision-language models),
//!   `pdfium` (its one thread), `render`, `source` (file types), [`models`] (the model store),
//!   `places` (where files are found at run time).
//! - **ground floor** ([`model`]): every type that crosses a stage boundary, and the errors.
//!
//! The stage and runtime modules are the engine's own (`pub(crate)`); the developer tools and
//! parity tests reach them with the `dev-api` feature. Geometry is in page points, origin
//! top-left. Errors are typed ([`Error`]) and say what failed and where; a failed file or page
//! is data in a report, never a crash.

// The stage and runtime modules: public to the developer tools (`dev-api`), the crate's own
// otherwise. (Declared one by one rather than by a macro, so that rustfmt finds their files.)
#[cfg(feature = "dev-api")]
pub mod ask;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod ask;
#[cfg(feature = "dev-api")]
pub mod embed;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod embed;
#[cfg(feature = "dev-api")]
pub mod export;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod export;
#[cfg(feature = "dev-api")]
pub mod extract;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod extract;
#[cfg(feature = "dev-api")]
pub mod fitted;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod fitted;
#[cfg(feature = "dev-api")]
pub mod layout;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod layout;
#[cfg(feature = "dev-api")]
pub mod nn;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod nn;
#[cfg(feature = "dev-api")]
pub mod pdfium;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod pdfium;
#[cfg(feature = "dev-api")]
pub mod read;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod read;
#[cfg(feature = "dev-api")]
pub mod render;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod render;
#[cfg(feature = "dev-api")]
pub mod source;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod source;
#[cfg(feature = "dev-api")]
pub mod store;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod store;
#[cfg(feature = "dev-api")]
pub mod values;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod values;
#[cfg(feature = "dev-api")]
pub mod vlm;
#[cfg(not(feature = "dev-api"))]
pub(crate) mod vlm;

mod loaded;
pub mod model;
pub mod models;
mod places;
mod secrets;
mod service;
pub mod worker;

pub use model::*;
pub use secrets::Secrets;
pub use service::{collect_files, AddOptions, Answering, Library, PAGE_LAYOUT};

pub use ask::visual::{DEFAULT_MAX_PIXELS, MODEL as VISUAL_MODEL};
pub use ask::{parse_question, Extractive, NEEDS_READER};
/// Tensor element types, for choosing a model's precision.
pub use candle_core::DType;
pub use embed::Meaning;
pub use export::csv::{to_csv, CsvOptions};
pub use export::{to_json, write_file};
pub use extract::schema::{FieldSpec, FieldType, Schema, PRESETS as SCHEMA_PRESETS};
pub use layout::markdown::page_markdown;
pub use layout::overlay::draw as draw_layout;
pub use layout::tables::to_csv as table_csv;
pub use nn::tune_process;
pub use read::ocr::page::OcrPage;
pub use read::ocr::reader::TextLine;
pub use read::vlm::{RegionReading, VlmReading};
pub use render::ImageFormat;
pub use vlm::paddleocr_vl::PaddleOcrVl;
pub use vlm::{Precision, Stop, Vlm};
