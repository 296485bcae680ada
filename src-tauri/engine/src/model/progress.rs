//! What long-running work reports: each imported file's outcome, and the events of a job for
//! progress bars (CLI) and the desktop shell's channel.

use serde::{Deserialize, Serialize};

use super::{DocId, ErrorReport, Page, PageSource};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum AddStatus {
    Added,
    Duplicate,
    #[default]
    Failed,
}

/// What happened to one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct AddOutcome {
    pub path: String,
    pub doc_id: Option<DocId>,
    pub pages: u32,
    pub status: AddStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// Pages of an added document that could not be read (recorded in the library).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failed_pages: Vec<u32>,
    /// Pages without a text layer that the OCR reader did not read, and why (e.g. its model is
    /// not installed); they are kept as `needs-reader` and can be read later.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unread_pages: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unread_reason: Option<ErrorReport>,
    /// pdfium refused the file as it came; it was read from a repaired copy (the original is
    /// kept untouched beside it).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub repaired: bool,
}

impl AddOutcome {
    /// Note a page that could not be read, or was left unread.
    pub(crate) fn note(&mut self, page: &Page) {
        match page.source {
            PageSource::Failed => self.failed_pages.push(page.page),
            PageSource::NeedsReader => {
                self.unread_pages.push(page.page);
                if self.unread_reason.is_none() {
                    self.unread_reason = page.error.clone();
                }
            }
            _ => {}
        }
    }
}

/// Events of a long-running job, for progress bars (CLI) and the desktop shell's channel.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "event", content = "data", rename_all = "kebab-case")]
pub enum Progress {
    JobStarted {
        #[ts(type = "number")]
        job: i64,
        files: usize,
    },
    FileStarted {
        index: usize,
        path: String,
    },
    PageRead {
        index: usize,
        page: u32,
        pages: u32,
    },
    FileFinished {
        index: usize,
        outcome: AddOutcome,
    },
    JobFinished {
        #[ts(type = "number")]
        job: i64,
        added: usize,
        duplicates: usize,
        failed: usize,
        cancelled: bool,
    },
    /// The first search by meaning: pages embedded so far of those not embedded yet.
    Embedding {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// Field extraction: one document done (`error` when it failed; the others go on).
    Extracted {
        index: usize,
        doc_id: DocId,
        name: String,
        error: Option<ErrorReport>,
    },
}
