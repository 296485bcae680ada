//! What the shell sends the UI besides the engine's own types. Like those, they derive `TS`:
//! the UI's TypeScript types are generated from here (`ui/src/bindings`), never written twice.

use pagewise_engine::PageLayout;
use pagewise_engine::{DocId, Document, ErrorReport, Line, PageSource, Word};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The library the app has open.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct LibraryView {
    pub dir: String,
    /// How many documents the library holds; `documents` are the first of them (the list
    /// asks for the others a page at a time as it scrolls).
    #[ts(type = "number")]
    pub total: u64,
    pub documents: Vec<Document>,
    /// When this process started (ms since the Unix epoch): the UI reports its cold start.
    #[ts(type = "number")]
    pub process_started_ms: u64,
    /// The overlay colour of each layout label (the same as `pagewise render --overlay`).
    pub label_colours: Vec<LabelColour>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct LabelColour {
    pub label: pagewise_engine::Label,
    /// CSS colour, `#rrggbb`.
    pub colour: String,
}

impl LabelColour {
    pub fn all() -> Vec<LabelColour> {
        let hex = |[r, g, b]: [u8; 3]| format!("#{r:02x}{g:02x}{b:02x}");
        pagewise_engine::Label::ALL.iter().map(|l| LabelColour { label: *l, colour: hex(l.colour()) }).collect()
    }
}

/// One page as the viewer draws it: size, words, lines and layout regions in page points.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PageView {
    pub doc_id: DocId,
    pub page: u32,
    pub pages: u32,
    pub width: f32,
    pub height: f32,
    pub source: PageSource,
    pub turned: u16,
    /// The page was found in a photo and straightened: the photo can be shown instead.
    pub from_photo: bool,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
    pub layout: PageLayout,
    pub error: Option<ErrorReport>,
}

/// A schema as the fields panel lists it.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SchemaView {
    /// A preset's name or the TOML file's path: what `extract` and `export` take.
    pub spec: String,
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct FieldView {
    pub name: String,
    pub kind: pagewise_engine::FieldType,
    pub required: bool,
}

/// The outcome of running a schema over documents.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ExtractRun {
    pub documents: Vec<pagewise_engine::DocumentFields>,
    pub failed: Vec<Failure>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct Failure {
    pub doc_id: DocId,
    pub error: ErrorReport,
}

/// A model of the manifest and whether it is installed here.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ModelView {
    pub name: String,
    /// What it is for.
    pub task: String,
    pub package: String,
    pub version: String,
    pub licence: String,
    pub source: String,
    pub installed: bool,
    #[ts(type = "number | null")]
    pub bytes: Option<u64>,
    pub path: String,
    /// How to install it when it is missing.
    pub fetch: String,
    /// A large model people download when they want it (the vision-language readers); the
    /// app works without it.
    pub optional: bool,
}

/// A model download's progress: the file being fetched and the bytes of the whole model.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelProgress {
    pub file: String,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// One file of an installed model after `verify`.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct FileCheckView {
    pub file: String,
    pub ok: bool,
    pub detail: String,
}

/// Which reader "Read again" uses.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ReaderChoice {
    /// The scan reader (PP-OCR): detection, orientation, recognition.
    Ocr,
    /// PaddleOCR-VL, region by region (a download).
    Vlm,
}

/// A region PaddleOCR-VL has just read (streamed while the page is read).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RegionRead {
    /// 1-based, of `regions`.
    pub region: u32,
    pub regions: u32,
    pub label: pagewise_engine::Label,
    pub text: String,
}

/// A page read again: the page as it is now stored, and what the reading found.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ReadAgain {
    pub view: PageView,
    pub reader: ReaderChoice,
    pub words: u32,
    pub lines: u32,
    /// With the VLM: what its words were checked against ("text-layer", "ocr" or "nothing"),
    /// how many of them were found there, and the words whose letters appear nowhere on the page.
    pub checked_against: Option<String>,
    pub confirmed: u32,
    pub not_on_page: Vec<String>,
    pub regions: u32,
    /// Regions the model could not read, with why.
    pub failed_regions: Vec<String>,
    /// Regions where the model repeated itself and was cut.
    pub loops: u32,
}
