//! Documents: their identity, the kind of file they came from, and what the library knows of them.

use serde::{Deserialize, Serialize};

/// A document's identity: the lowercase hex sha256 of its bytes.
/// (A newtype: serde writes it as the bare string.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DocId(pub String);

impl DocId {
    pub fn short(&self) -> &str {
        &self.0[..12.min(self.0.len())]
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 1-based page number, as people count pages.
pub type PageNo = u32;

/// What kind of file a document came from (sniffed from its bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Webp,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpeg",
            FileKind::Tiff => "tiff",
            FileKind::Webp => "webp",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [FileKind::Pdf, FileKind::Png, FileKind::Jpeg, FileKind::Tiff, FileKind::Webp]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
    pub fn extension(&self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Tiff => "tif",
            other => other.as_str(),
        }
    }
}

/// A document in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Document {
    pub id: DocId,
    /// File name as the user had it.
    pub name: String,
    /// Where it was imported from.
    pub origin: String,
    pub kind: FileKind,
    #[ts(type = "number")]
    pub bytes: u64,
    pub pages: u32,
    pub encrypted: bool,
    /// Seconds since the Unix epoch.
    #[ts(type = "number")]
    pub added_at: i64,
    /// Pages per source, e.g. how many were read by OCR or still wait for a reader.
    pub text_pages: u32,
    pub ocr_pages: u32,
    pub needs_reader_pages: u32,
    pub failed_pages: u32,
}
