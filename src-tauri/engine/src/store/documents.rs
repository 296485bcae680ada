//! Documents and their pages: one transaction per imported document, so a crash or a failure
//! mid-import leaves the library exactly as it was.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::{now, Store};
use crate::model::{DocId, Document, FileKind, Line, Page, PageSource, Word};
use crate::{Error, ErrorReport, Result};

/// What the importer knows about a document before its pages are read.
pub struct NewDocument<'a> {
    pub id: &'a DocId,
    pub name: &'a str,
    pub origin: &'a str,
    pub kind: FileKind,
    pub bytes: u64,
    pub pages: u32,
    pub encrypted: bool,
}

/// An open import: pages go in one by one, and nothing is visible until `commit`.
pub struct ImportTx<'a> {
    tx: Transaction<'a>,
    id: DocId,
}

/// Pixel facts of an image page, needed to render it later.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageMeta {
    pub dpi: Option<f32>,
    pub orientation: Option<u8>,
}

impl Store {
    pub fn begin_import(&mut self, doc: &NewDocument) -> Result<ImportTx<'_>> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO documents (id, name, origin, kind, bytes, pages, encrypted, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                doc.id.0,
                doc.name,
                doc.origin,
                doc.kind.as_str(),
                doc.bytes as i64,
                doc.pages,
                doc.encrypted,
                now()
            ],
        )?;
        Ok(ImportTx { tx, id: doc.id.clone() })
    }

    pub fn contains(&self, id: &DocId) -> Result<bool> {
        Ok(self.conn.query_row("SELECT 1 FROM documents WHERE id = ?1", [&id.0], |_| Ok(())).optional()?.is_some())
    }

    /// How many documents the library holds.
    pub fn count_documents(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Documents in the order they were added, `limit` of them from `offset` (read through the
    /// `documents_listed` index, so a page costs the same at the end of a large library).
    pub fn documents(&self, offset: u64, limit: u64) -> Result<Vec<Document>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("{DOC_SELECT} ORDER BY d.added_at, d.name, d.id LIMIT ?1 OFFSET ?2"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![limit, offset as i64], doc_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn document(&self, id: &DocId) -> Result<Document> {
        self.conn
            .query_row(&format!("{DOC_SELECT} WHERE d.id = ?1"), [&id.0], doc_from_row)
            .optional()?
            .ok_or_else(|| Error::UnknownDocument { query: id.0.clone() })
    }

    /// A document by id or unique id prefix (at least 4 hex digits), or by exact file name.
    pub fn resolve(&self, query: &str) -> Result<Document> {
        let q = query.trim().to_ascii_lowercase();
        let mut ids: Vec<(String, String)> = Vec::new();
        if q.len() >= 4 && q.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut stmt =
                self.conn.prepare("SELECT id, name FROM documents WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 6")?;
            ids = stmt.query_map([&q], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        }
        if ids.is_empty() {
            let mut stmt = self.conn.prepare("SELECT id, name FROM documents WHERE name = ?1 LIMIT 6")?;
            ids = stmt.query_map([query.trim()], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        }
        match ids.len() {
            0 => Err(Error::UnknownDocument { query: query.into() }),
            1 => self.document(&DocId(ids.remove(0).0)),
            _ => Err(Error::AmbiguousDocument {
                query: query.into(),
                candidates: ids
                    .iter()
                    .map(|(id, name)| format!("{} ({name})", &id[..12]))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    pub fn page(&self, id: &DocId, page: u32) -> Result<Page> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {PAGE_COLUMNS} FROM pages WHERE doc_id = ?1 AND page = ?2"),
                params![id.0, page],
                page_from_row,
            )
            .optional()?;
        match found {
            Some(p) => Ok(p),
            None => {
                let doc = self.document(id)?;
                Err(Error::NoSuchPage { doc: doc.name, page, pages: doc.pages })
            }
        }
    }

    pub fn pages(&self, id: &DocId) -> Result<Vec<Page>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {PAGE_COLUMNS} FROM pages WHERE doc_id = ?1 ORDER BY page"))?;
        let rows = stmt.query_map([&id.0], page_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replace a page's reading (its words read again, e.g. by OCR on request): words, lines,
    /// text, source, size and turn; its search entry follows, its cached layouts and thumbnail go.
    pub fn replace_reading(&mut self, id: &DocId, page: &Page) -> Result<()> {
        self.page(id, page.page)?;
        let words = serde_json::to_string(&page.words).expect("words serialise");
        let lines = serde_json::to_string(&page.lines).expect("lines serialise");
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE pages SET width = ?3, height = ?4, turned = ?5, source = ?6, text = ?7, words = ?8, lines = ?9,
             error_kind = NULL, error_message = NULL
             WHERE doc_id = ?1 AND page = ?2",
            params![
                id.0,
                page.page,
                page.width,
                page.height,
                page.turned,
                page.source.as_str(),
                page.text,
                words,
                lines
            ],
        )?;
        tx.execute("DELETE FROM page_fts WHERE doc_id = ?1 AND page = ?2", params![id.0, page.page])?;
        if !page.text.is_empty() {
            tx.execute(
                "INSERT INTO page_fts (text, doc_id, page) VALUES (?1, ?2, ?3)",
                params![page.text, id.0, page.page],
            )?;
        }
        tx.execute("DELETE FROM layouts WHERE doc_id = ?1 AND page = ?2", params![id.0, page.page])?;
        tx.execute("DELETE FROM block_embeddings WHERE doc_id = ?1 AND page = ?2", params![id.0, page.page])?;
        tx.execute("DELETE FROM embedded_pages WHERE doc_id = ?1 AND page = ?2", params![id.0, page.page])?;
        tx.commit()?;
        let _ = std::fs::remove_file(self.thumbnail_path(id, page.page));
        Ok(())
    }

    /// Forget a document: its rows, its index entries, its stored original and thumbnails.
    pub fn remove(&mut self, id: &DocId) -> Result<()> {
        let doc = self.document(id)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM page_fts WHERE doc_id = ?1", [&id.0])?;
        tx.execute("DELETE FROM documents WHERE id = ?1", [&id.0])?;
        tx.commit()?;
        let _ = std::fs::remove_file(self.original_path(id, doc.kind));
        let _ = std::fs::remove_file(self.repaired_path(id));
        if let Ok(entries) = std::fs::read_dir(self.dir().join("thumbs")) {
            for e in entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&id.0)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }
}

/// Hand every password an older library kept to `sink` (inside migration 7, before the column
/// goes); how many there were.
pub(super) fn move_passwords(tx: &Transaction, sink: super::PasswordSink) -> Result<usize> {
    let library: String = tx.query_row("SELECT id FROM library", [], |r| r.get(0))?;
    let mut stmt = tx.prepare("SELECT id, password FROM documents WHERE password IS NOT NULL AND password != ''")?;
    let kept =
        stmt.query_map([], |r| Ok((DocId(r.get(0)?), r.get::<_, String>(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    for (doc, password) in &kept {
        sink(&library, doc, password)?;
    }
    Ok(kept.len())
}

impl ImportTx<'_> {
    pub fn add_page(&mut self, page: &Page, image: ImageMeta) -> Result<()> {
        let words = serde_json::to_string(&page.words).expect("words serialise");
        let lines = serde_json::to_string(&page.lines).expect("lines serialise");
        let graphics = serde_json::to_string(&page.graphics).expect("graphics serialise");
        self.tx
            .prepare_cached(
                "INSERT INTO pages (doc_id, page, width, height, rotation, source, text, words, lines, dpi, orientation,
                 error_kind, error_message, graphics, turned, photo_corners)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(params![
                self.id.0,
                page.page,
                page.width,
                page.height,
                page.rotation,
                page.source.as_str(),
                page.text,
                words,
                lines,
                image.dpi,
                image.orientation,
                page.error.as_ref().map(|e| e.kind.as_str()),
                page.error.as_ref().map(|e| e.message.as_str()),
                graphics,
                page.turned,
                page.photo_corners.map(|c| serde_json::to_string(&c).expect("corners serialise")),
            ])?;
        if !page.text.is_empty() {
            self.tx
                .prepare_cached("INSERT INTO page_fts (text, doc_id, page) VALUES (?1, ?2, ?3)")?
                .execute(params![page.text, self.id.0, page.page])?;
        }
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// Each document's pages counted by source through the `pages_by_source` index: a join and
/// GROUP BY over every page read each page's whole row, words and all.
const DOC_SELECT: &str = "SELECT d.id, d.name, d.origin, d.kind, d.bytes, d.pages, d.encrypted, d.added_at,
    (SELECT COUNT(*) FROM pages p WHERE p.doc_id = d.id AND p.source = 'text-layer'),
    (SELECT COUNT(*) FROM pages p WHERE p.doc_id = d.id AND p.source = 'ocr'),
    (SELECT COUNT(*) FROM pages p WHERE p.doc_id = d.id AND p.source = 'needs-reader'),
    (SELECT COUNT(*) FROM pages p WHERE p.doc_id = d.id AND p.source = 'failed')
    FROM documents d";

fn doc_from_row(r: &Row) -> rusqlite::Result<Document> {
    let kind: String = r.get(3)?;
    Ok(Document {
        id: DocId(r.get(0)?),
        name: r.get(1)?,
        origin: r.get(2)?,
        kind: FileKind::parse(&kind).unwrap_or(FileKind::Pdf),
        bytes: r.get::<_, i64>(4)? as u64,
        pages: r.get(5)?,
        encrypted: r.get(6)?,
        added_at: r.get(7)?,
        text_pages: r.get(8)?,
        ocr_pages: r.get(9)?,
        needs_reader_pages: r.get(10)?,
        failed_pages: r.get(11)?,
    })
}

pub(super) const PAGE_COLUMNS: &str =
    "page, width, height, rotation, source, text, words, lines, error_kind, error_message, graphics, turned,
    photo_corners";

fn page_from_row(r: &Row) -> rusqlite::Result<Page> {
    page_from_row_at(r, 0)
}

/// A page from [`PAGE_COLUMNS`], read from column `at` on.
pub(super) fn page_from_row_at(r: &Row, at: usize) -> rusqlite::Result<Page> {
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let source: String = r.get(at + 4)?;
    let words: String = r.get(at + 6)?;
    let lines: String = r.get(at + 7)?;
    let graphics: String = r.get(at + 10)?;
    let corners: Option<String> = r.get(at + 12)?;
    let error = match (r.get::<_, Option<String>>(at + 8)?, r.get::<_, Option<String>>(at + 9)?) {
        (Some(kind), Some(message)) => Some(ErrorReport { kind, message }),
        _ => None,
    };
    Ok(Page {
        page: r.get(at)?,
        width: r.get::<_, f64>(at + 1)? as f32,
        height: r.get::<_, f64>(at + 2)? as f32,
        rotation: r.get(at + 3)?,
        turned: r.get(at + 11)?,
        photo_corners: corners.map(|c| serde_json::from_str(&c)).transpose().map_err(|e| json_err(at + 12, e))?,
        source: PageSource::parse(&source).unwrap_or(PageSource::Failed),
        text: r.get(at + 5)?,
        words: serde_json::from_str::<Vec<Word>>(&words).map_err(|e| json_err(at + 6, e))?,
        lines: serde_json::from_str::<Vec<Line>>(&lines).map_err(|e| json_err(at + 7, e))?,
        graphics: serde_json::from_str(&graphics).map_err(|e| json_err(at + 10, e))?,
        error,
    })
}
