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
    (7, "secrets", include_str!("migrations/0007_secrets.sql")),
    (8, "large libraries", include_str!("migrations/0008_large_libraries.sql")),
    (9, "photos", include_str!("migrations/0009_photos.sql")),
];

/// The migration that moves passwords out of the database, and where in its SQL that happens.
const SECRETS_MIGRATION: u32 = 7;
const PASSWORDS_MOVED: &str = "-- PASSWORDS MOVED OUT HERE";

/// Takes a password found in an older library (library id, document, password) out of it.
pub type PasswordSink<'a> = &'a mut dyn FnMut(&str, &DocId, &str) -> Result<()>;

/// Width of the thumbnails kept in the library, in pixels.
pub const THUMB_WIDTH: u32 = 240;

/// How long a step waits for another process's lock on the library.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Run `step` again while SQLite answers "busy" at once instead of waiting, for up to
/// [`BUSY_WAIT`]. It does so where waiting could deadlock: processes that open a new library
/// together each hold a read lock while switching it to WAL or migrating it.
fn when_not_busy<T, E: Into<Error>>(mut step: impl FnMut() -> std::result::Result<T, E>) -> Result<T> {
    let start = std::time::Instant::now();
    loop {
        match step().map_err(Into::into) {
            Err(Error::Database(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < BUSY_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            done => return done,
        }
    }
}

pub struct Store {
    dir: PathBuf,
    conn: Connection,
    /// Opened from a read-only disk: it can be read, and every change is refused.
    read_only: bool,
    /// This library's own id (random, made by migration 7): secrets are filed under it.
    library_id: String,
}

impl Store {
    /// Open a library that holds no password to move (tests).
    #[cfg(test)]
    pub fn open(dir: &Path) -> Result<Self> {
        Store::open_with(dir, &mut |_, _, _| panic!("a password to move out"))
    }

    /// Open (creating if needed) the library in `dir`; passwords that an older Pagewise kept in
    /// it go to `passwords` and are then erased from the database. An existing library on a
    /// read-only disk opens for reading.
    pub fn open_with(dir: &Path, passwords: PasswordSink) -> Result<Self> {
        let lib_err = |detail: String| Error::Library { path: dir.into(), detail };
        let db = dir.join("library.sqlite3");
        for sub in ["", "originals", "thumbs"] {
            let folder = dir.join(sub);
            let made = std::fs::create_dir_all(&folder).and_then(|_| files::make_private(&folder, true));
            match made {
                Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem && db.is_file() => {
                    return Self::open_read_only(dir);
                }
                Err(e) => return Err(lib_err(format!("cannot create or protect {sub}: {e}"))),
                Ok(()) => {}
            }
        }
        let conn = Connection::open(&db)?;
        // SQLite gives its WAL and shared-memory files the database's own permissions.
        files::make_private(&db, false).map_err(|e| lib_err(format!("cannot protect the database: {e}")))?;
        // Other processes may hold the library (the app and a CLI batch, say): wait for their
        // locks, switching to WAL included, rather than fail.
        conn.busy_timeout(BUSY_WAIT)?;
        when_not_busy(|| conn.pragma_update(None, "journal_mode", "WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // What is deleted (a removed document's text, a moved password) is overwritten with
        // zeros, not left readable in free pages of the file.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let mut lib = Store { dir: dir.into(), conn, read_only: false, library_id: String::new() };
        when_not_busy(|| lib.migrate(&mut *passwords))?;
        lib.library_id = lib.conn.query_row("SELECT id FROM library", [], |r| r.get(0))?;
        Ok(lib)
    }

    /// A library on a read-only disk. SQLite cannot make the shared-memory file that WAL needs
    /// there, so the database is opened as immutable: nothing else can change it on that disk.
    fn open_read_only(dir: &Path) -> Result<Self> {
        use rusqlite::OpenFlags;
        let path = dir.join("library.sqlite3");
        let escaped: String = path
            .as_os_str()
            .as_encoded_bytes()
            .iter()
            .map(|&b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(format!("file:{escaped}?immutable=1"), flags)?;
        let mut lib = Store { dir: dir.into(), conn, read_only: true, library_id: String::new() };
        let (version, newest) = (lib.version()?, MIGRATIONS.last().map(|m| m.0).unwrap_or(0));
        if version != newest {
            return Err(Error::ReadOnly { place: format!("library at {} (it needs an upgrade)", dir.display()) });
        }
        lib.library_id = lib.conn.query_row("SELECT id FROM library", [], |r| r.get(0))?;
        Ok(lib)
    }

    fn version(&self) -> Result<u32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Refuse a change up front when the library cannot take one.
    pub(crate) fn writable(&self) -> Result<()> {
        match self.read_only {
            true => Err(Error::ReadOnly { place: format!("library at {}", self.dir.display()) }),
            false => Ok(()),
        }
    }

    /// Bring the schema up to date. Processes opening a new library at the same moment take
    /// turns: the version is read again inside one write transaction, taken before anything is
    /// read, so only the first creates the tables and the others find them made.
    fn migrate(&mut self, passwords: PasswordSink) -> Result<()> {
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
        let mut moved = 0;
        for (version, _name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            match sql.split_once(PASSWORDS_MOVED) {
                Some((before, after)) if *version == SECRETS_MIGRATION => {
                    tx.execute_batch(before)?;
                    moved = documents::move_passwords(&tx, passwords)?;
                    tx.execute_batch(after)?;
                }
                _ => tx.execute_batch(sql)?,
            }
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
        if moved > 0 {
            // The old pages went to the write-ahead log's end; copy them back and empty the log,
            // so no earlier copy of a password stays in either file.
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// This library's id, under which its secrets are filed.
    pub fn library_id(&self) -> &str {
        &self.library_id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    #[cfg(test)]
    pub fn schema_version(&self) -> Result<u32> {
        self.version()
    }

    pub fn original_path(&self, id: &DocId, kind: FileKind) -> PathBuf {
        self.dir.join("originals").join(format!("{}.{}", id, kind.extension()))
    }

    /// Where the repaired copy of a PDF that pdfium refused is kept (beside its original,
    /// which stays as it came).
    pub fn repaired_path(&self, id: &DocId) -> PathBuf {
        self.dir.join("originals").join(format!("{id}.repaired.pdf"))
    }

    /// The file to draw a document's pages from: its repaired copy when it has one.
    pub fn readable_path(&self, id: &DocId, kind: FileKind) -> PathBuf {
        let repaired = self.repaired_path(id);
        if kind == FileKind::Pdf && repaired.is_file() {
            repaired
        } else {
            self.original_path(id, kind)
        }
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

    /// A library as Pagewise left it before migration 7: one encrypted document, its password
    /// kept in plain text.
    fn library_at_version_6(dir: &Path, password: &str) {
        let conn = Connection::open(dir.join("library.sqlite3")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 < SECRETS_MIGRATION) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute(
            "INSERT INTO documents (id, name, origin, kind, bytes, pages, encrypted, password, added_at)
             VALUES (?1, 'locked.pdf', '/tmp/locked.pdf', 'pdf', 10, 1, 1, ?2, 0)",
            rusqlite::params!["ab".repeat(32), password],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO documents (id, name, origin, kind, bytes, pages, encrypted, added_at)
             VALUES (?1, 'open.pdf', '/tmp/open.pdf', 'pdf', 10, 1, 0, 0)",
            ["cd".repeat(32)],
        )
        .unwrap();
    }

    fn library_bytes(dir: &Path) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["library.sqlite3", "library.sqlite3-wal"] {
            all.extend(std::fs::read(dir.join(name)).unwrap_or_default());
        }
        all
    }

    #[test]
    fn migration_7_moves_passwords_out_and_leaves_no_trace_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let password = "Zq7-unusual-passphrase";
        library_at_version_6(dir.path(), password);
        assert!(library_bytes(dir.path()).windows(password.len()).any(|w| w == password.as_bytes()));
        let mut moved = Vec::new();
        let lib = Store::open_with(dir.path(), &mut |library, doc, p| {
            moved.push((library.to_string(), doc.0.clone(), p.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(moved, vec![(lib.library_id().to_string(), "ab".repeat(32), password.to_string())]);
        assert_eq!(lib.library_id().len(), 32);
        let columns: Vec<String> = lib
            .conn
            .prepare("SELECT name FROM pragma_table_info('documents')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!columns.iter().any(|c| c == "password"), "{columns:?}");
        assert!(lib.document(&DocId("ab".repeat(32))).unwrap().encrypted);
        let found = library_bytes(dir.path()).windows(password.len()).any(|w| w == password.as_bytes());
        assert!(!found, "the password is still in the library's files");
        // The id stays with the library: its secrets are found again next time.
        let id = lib.library_id().to_string();
        drop(lib);
        assert_eq!(Store::open(dir.path()).unwrap().library_id(), id);
    }

    #[test]
    fn a_refused_move_leaves_the_library_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        library_at_version_6(dir.path(), "s3cret");
        let err = Store::open_with(dir.path(), &mut |_, _, _| Err(Error::Keyring { detail: "locked".into() }));
        assert_eq!(err.err().unwrap().kind(), "keyring");
        let conn = Connection::open(dir.path().join("library.sqlite3")).unwrap();
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        let kept: String = conn.query_row("SELECT password FROM documents WHERE encrypted", [], |r| r.get(0)).unwrap();
        assert_eq!((version, kept.as_str()), (6, "s3cret"));
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
