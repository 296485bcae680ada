//! The library on disk: one directory holding `library.sqlite3` (WAL, embedded numbered
//! migrations, FTS5), the imported originals under `originals/`, and cached thumbnails under
//! `thumbs/`. All SQL lives here, one file per table group; it knows only the ground floor's
//! types (`crate::model`) and stores what the stages produce as the service hands it over.

mod documents;
mod fields;
mod files;
mod jobs;
mod layouts;
mod questions;
mod search;

pub use documents::{ImageMeta, NewDocument};
pub use jobs::JobItem;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

use crate::model::{DocId, FileKind};
use crate::{Error, Result};

/// Embedded migrations, applied in order; each runs in one transaction and bumps
/// `PRAGMA user_version`. Later stages append theirs here.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (2, "layout", include_str!("migrations/0002_layout.sql")),
    (3, "ocr", include_str!("migrations/0003_ocr.sql")),
    (4, "fields", include_str!("migrations/0004_fields.sql")),
    (5, "embeddings", include_str!("migrations/0005_embeddings.sql")),
    (6, "questions", include_str!("migrations/0006_questions.sql")),
    (8, "large libraries", include_str!("migrations/0008_large_libraries.sql")),
];

/// Width of the thumbnails kept in the library, in pixels.
pub const THUMB_WIDTH: u32 = 240;

pub struct Store {
    dir: PathBuf,
    conn: Connection,
}

impl Store {
    /// Open (creating if needed) the library in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let lib_err = |detail: String| Error::Library { path: dir.into(), detail };
        for sub in ["", "originals", "thumbs"] {
            let folder = dir.join(sub);
            std::fs::create_dir_all(&folder).map_err(|e| lib_err(format!("cannot create {sub}: {e}")))?;
            files::make_private(&folder, true).map_err(|e| lib_err(format!("cannot protect {sub}: {e}")))?;
        }
        let db = dir.join("library.sqlite3");
        let conn = Connection::open(&db)?;
        // SQLite gives its WAL and shared-memory files the database's own permissions.
        files::make_private(&db, false).map_err(|e| lib_err(format!("cannot protect the database: {e}")))?;
        // Other processes may hold the library (the app and a CLI batch, say): wait for their
        // locks, switching to WAL included, rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut lib = Store { dir: dir.into(), conn };
        lib.migrate()?;
        Ok(lib)
    }

    /// Bring the schema up to date. Processes opening a new library at the same moment take
    /// turns: the version is read again inside one write transaction, taken before anything is
    /// read, so only the first creates the tables and the others find them made.
    fn migrate(&mut self) -> Result<()> {
        let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        let version =
            |conn: &Connection| -> Result<u32> { Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?) };
        if version(&self.conn)? == newest {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current > newest {
            return Err(Error::Library {
                path: self.dir.clone(),
                detail: format!("made by a newer Pagewise (schema {current}, this one knows {newest})"),
            });
        }
        for (version, _name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        Ok(tx.commit()?)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    #[cfg(test)]
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub fn original_path(&self, id: &DocId, kind: FileKind) -> PathBuf {
        self.dir.join("originals").join(format!("{}.{}", id, kind.extension()))
    }

    /// Where a page's thumbnail ([`THUMB_WIDTH`] pixels wide, PNG) is cached.
    pub fn thumbnail_path(&self, id: &DocId, page: u32) -> PathBuf {
        self.dir.join("thumbs").join(format!("{}-p{page}-w{THUMB_WIDTH}.png", id.0))
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Store::open(dir.path()).unwrap();
        let newest = MIGRATIONS.last().unwrap().0;
        assert_eq!(lib.schema_version().unwrap(), newest);
        let mode: String = lib.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(lib);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.schema_version().unwrap(), newest);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Store::open(dir.path()).unwrap();
        lib.conn.pragma_update(None, "user_version", 999).unwrap();
        drop(lib);
        let err = Store::open(dir.path()).err().unwrap();
        assert_eq!(err.kind(), "library");
    }
}
