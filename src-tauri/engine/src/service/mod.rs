//! The service layer: [`Library`], the one handle the front ends (CLI, desktop app, and later
//! the Python binding) use. It opens the library on disk, loads what a stage needs (pages,
//! pixels, models), calls the stages, keeps their results (layouts, field values, embeddings,
//! questions asked) and records jobs. The only layer that calls both the store and the stages.
//!
//! - [`import`]: files into the library, page by page, with progress events.
//! - [`reading`]: a stored page read again by OCR or by PaddleOCR-VL.
//! - [`pixels`]: pages drawn for the viewer and the models; thumbnails.
//! - [`layouts`]: each page's layout, analysed once per analyzer and kept.
//! - [`questions`]: questions about a document, answered over its pages and layout.
//! - [`fields`]: a schema's fields filled in per document and kept; corrections.
//! - [`search`]: full-text search and search by meaning.

mod fields;
mod import;
mod layouts;
mod pixels;
mod questions;
mod reading;
mod search;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use import::{collect_files, AddOptions};
pub use questions::{Answering, PAGE_LAYOUT};

use crate::model::{Asked, DocId, Document, Page};
use crate::secrets::Secrets;
use crate::store::Store;
use crate::{places, Error, Result};

/// A library of documents, open: the front ends' one way into the engine.
pub struct Library {
    store: Store,
    /// Passwords of its encrypted PDFs (never in the database: see `secrets`).
    secrets: Arc<Secrets>,
}

impl Library {
    /// Open (creating if needed) the library in `dir`. Passwords an older Pagewise kept in the
    /// database move to the OS keyring on the way (dropped where there is none).
    pub fn open(dir: &Path) -> Result<Library> {
        Library::open_sharing(dir, Arc::new(Secrets::from_env()))
    }

    /// Open `dir` with the passwords of `secrets`, shared with the process's other handles on
    /// it (the app's): a password given in the session opens the document's pages in all.
    pub fn open_sharing(dir: &Path, secrets: Arc<Secrets>) -> Result<Library> {
        let store = Store::open_with(dir, &mut |library, doc, password| secrets.move_in(library, doc, password))?;
        Ok(Library { store, secrets })
    }

    /// Whether passwords of encrypted PDFs are remembered after this process ends (an OS keyring
    /// answers); if not, they last this session and are asked for again to draw pages later.
    pub fn remembers_passwords(&self) -> bool {
        self.secrets.persistent()
    }

    /// A password to try on encrypted documents that have none remembered, for this session.
    pub fn offer_password(&self, password: Option<String>) {
        self.secrets.offer(password);
    }

    /// The password kept for an encrypted document, if any.
    pub(crate) fn password_of(&self, id: &DocId) -> Option<String> {
        self.secrets.password(self.store.library_id(), id)
    }

    /// The default location: `$PAGEWISE_LIBRARY`, else `library/` in the user's data directory.
    pub fn default_dir() -> Result<PathBuf> {
        places::from_env("PAGEWISE_LIBRARY")
            .or_else(|| places::user_data_dir().map(|d| d.join("library")))
            .ok_or(Error::NoDataDir)
    }

    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// Documents in the order they were added: `limit` of them from `offset`.
    pub fn documents(&self, offset: u64, limit: u64) -> Result<Vec<Document>> {
        self.store.documents(offset, limit)
    }

    /// How many documents the library holds.
    pub fn count_documents(&self) -> Result<u64> {
        self.store.count_documents()
    }

    pub fn document(&self, id: &DocId) -> Result<Document> {
        self.store.document(id)
    }

    /// A document by id, id prefix or file name.
    pub fn resolve(&self, query: &str) -> Result<Document> {
        self.store.resolve(query)
    }

    pub fn contains(&self, id: &DocId) -> Result<bool> {
        self.store.contains(id)
    }

    pub fn page(&self, id: &DocId, page: u32) -> Result<Page> {
        self.store.page(id, page)
    }

    pub fn pages(&self, id: &DocId) -> Result<Vec<Page>> {
        self.store.pages(id)
    }

    /// Forget a document: its pages, index entries, layouts, fields, questions, stored original,
    /// thumbnails and password.
    pub fn remove(&mut self, id: &DocId) -> Result<()> {
        let encrypted = self.store.document(id)?.encrypted;
        self.store.remove(id)?;
        match encrypted {
            true => self.secrets.forget(self.store.library_id(), id),
            false => Ok(()),
        }
    }

    /// The questions asked about a document, oldest first.
    pub fn questions(&self, id: &DocId) -> Result<Vec<Asked>> {
        self.store.questions(id)
    }
}
