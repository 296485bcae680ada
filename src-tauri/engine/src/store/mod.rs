//! The library: one directory holding `library.sqlite3` (WAL, embedded numbered migrations,
//! FTS5), the imported originals under `originals/`, and cached thumbnails under `thumbs/`.

mod documents;
pub use documents::{ImageMeta, ImportTx, NewDocument};
mod fields;
mod jobs;
mod layouts;
mod questions;

pub use fields::StoredField;
pub use jobs::JobItem;
pub use questions::Asked;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

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
];

pub struct Library {
    dir: PathBuf,
    pub(crate) conn: Connection,
}

impl Library {
    /// Open (creating if needed) the library in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let lib_err = |detail: String| Error::Library { path: dir.into(), detail };
        for sub in ["", "originals", "thumbs"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| lib_err(format!("cannot create {sub}: {e}")))?;
        }
        let conn = Connection::open(dir.join("library.sqlite3"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut lib = Library { dir: dir.into(), conn };
        lib.migrate()?;
        Ok(lib)
    }

    /// The default location: `$PAGEWISE_LIBRARY`, else the platform data directory.
    pub fn default_dir() -> Result<PathBuf> {
        if let Some(dir) = std::env::var_os("PAGEWISE_LIBRARY") {
            return Ok(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("app", "Pagewise", "pagewise").map(|d| d.data_dir().join("library")).ok_or_else(
            || Error::Library { path: PathBuf::new(), detail: "no home directory; pass --library DIR".into() },
        )
    }

    fn migrate(&mut self) -> Result<()> {
        let current: u32 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if current > newest {
            return Err(Error::Library {
                path: self.dir.clone(),
                detail: format!("made by a newer Pagewise (schema {current}, this one knows {newest})"),
            });
        }
        for (version, _name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub(crate) fn original_path(&self, id: &crate::DocId, kind: crate::FileKind) -> PathBuf {
        self.dir.join("originals").join(format!("{}.{}", id, kind.extension()))
    }

    pub(crate) fn thumbs_dir(&self) -> PathBuf {
        self.dir.join("thumbs")
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        assert_eq!(lib.schema_version().unwrap(), MIGRATIONS.len() as u32);
        let mode: String = lib.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(lib);
        let again = Library::open(dir.path()).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len() as u32);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        lib.conn.pragma_update(None, "user_version", 999).unwrap();
        drop(lib);
        let err = Library::open(dir.path()).err().unwrap();
        assert_eq!(err.kind(), "library");
    }
}
