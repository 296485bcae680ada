//! Typed engine errors. Every error says what went wrong and where (file, page, model), and has
//! a stable `kind` string that the CLI's `--json` output and the desktop UI show. How to fix it
//! ("pass --password", "download it from the Models panel") is for each front end to word from
//! the error's kind and fields: the engine does not know who is asking.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: file not found")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read ({source})")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is empty (0 bytes)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: {bytes} bytes is above the limit of {limit} bytes for an image file")]
    FileTooLarge { path: PathBuf, bytes: u64, limit: u64 },
    #[error("{path}: unsupported file type ({detail}); Pagewise reads PDF, PNG, JPEG, TIFF and WebP")]
    UnsupportedType { path: PathBuf, detail: String },
    #[error("{path}: the PDF is encrypted and needs a password")]
    PasswordRequired { path: PathBuf },
    #[error("{path}: wrong password for this encrypted PDF")]
    WrongPassword { path: PathBuf },
    #[error("{path}: damaged or not a valid {format} ({detail})")]
    Corrupt { path: PathBuf, format: &'static str, detail: String },
    #[error(
        "{path}: image is {width}x{height} pixels, above the limit of {limit} pixels (possible decompression bomb)"
    )]
    ImageTooLarge { path: PathBuf, width: u64, height: u64, limit: u64 },
    #[error("{path}: this document's security handler is not supported by pdfium")]
    UnsupportedSecurity { path: PathBuf },
    #[error("page {page} of {doc}: {detail}")]
    Page { doc: String, page: u32, detail: String },
    #[error("page {page} of {doc}: {width}x{height} pixels at {dpi} DPI is above the limit of {limit} pixels")]
    RenderTooLarge { doc: String, page: u32, width: u32, height: u32, dpi: f32, limit: u64 },
    #[error("no page {page} in {doc} (it has {pages})")]
    NoSuchPage { doc: String, page: u32, pages: u32 },
    #[error("no document matches '{query}'")]
    UnknownDocument { query: String },
    #[error("'{query}' matches several documents: {candidates}")]
    AmbiguousDocument { query: String, candidates: String },
    #[error("libpdfium could not be loaded ({detail})")]
    PdfiumMissing { detail: String },
    #[error("no home directory to keep the library in")]
    NoDataDir,
    #[error("library at {path}: {detail}")]
    Library { path: PathBuf, detail: String },
    #[error("the keyring refused to keep a password ({detail})")]
    Keyring { detail: String },
    #[error("database: {0}")]
    Database(rusqlite::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write ({source})")]
    Unwritable { path: PathBuf, source: std::io::Error },
    /// The worker process that opened the file died (a crash in pdfium or a decoder, its
    /// memory bound reached); nothing else was affected.
    #[error("{path}: the reader stopped while opening it: {detail}")]
    ReaderCrashed { path: PathBuf, detail: String },
    #[error("{path}: one step of reading it took longer than {seconds} s, the limit")]
    ReaderTimedOut { path: PathBuf, seconds: u64 },
    /// `place`: a path, or the library's database (SQLite does not say which file).
    #[error("{place}: no space left on the disk")]
    DiskFull { place: String },
    #[error("{place}: read-only, nothing can be written there")]
    ReadOnly { place: String },
    #[error("{path}: internal error while importing ({detail})")]
    Internal { path: PathBuf, detail: String },
    /// `downloadable`: a large model people download when they want it (from the hub), rather
    /// than one that comes with Pagewise.
    #[error("model {model} is not installed ({path})")]
    ModelMissing { model: String, path: PathBuf, downloadable: bool },
    #[error("model {model}: {file} is missing or has changed size since it was installed")]
    ModelDamaged { model: String, file: String },
    #[error("model {model}: {detail} (is {hub} reachable?)")]
    HubFailed { model: String, hub: String, detail: String },
    #[error("model {model}: its manifest is not pinned to a commit yet")]
    ModelUnpinned { model: String },
    #[error("model {model} needs about {needed_gb:.1} GB of memory, {available_gb:.1} GB is available")]
    NotEnoughMemory { model: String, needed_gb: f64, available_gb: f64 },
    #[error("model {model}: {detail}")]
    Model { model: String, detail: String },
    #[error("question: {detail}")]
    BadQuestion { detail: String },
    #[error("{path}:{line}: {detail}")]
    BadSchema { path: PathBuf, line: usize, detail: String },
    #[error("{path}: already exists")]
    OutputExists { path: PathBuf },
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// A stable, machine-readable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Unreadable { .. } => "unreadable",
            Error::EmptyFile { .. } => "empty_file",
            Error::FileTooLarge { .. } => "file_too_large",
            Error::UnsupportedType { .. } => "unsupported_type",
            Error::PasswordRequired { .. } => "password_required",
            Error::WrongPassword { .. } => "wrong_password",
            Error::Corrupt { .. } => "corrupt",
            Error::ImageTooLarge { .. } => "image_too_large",
            Error::UnsupportedSecurity { .. } => "unsupported_security",
            Error::Page { .. } => "page_failed",
            Error::RenderTooLarge { .. } => "render_too_large",
            Error::NoSuchPage { .. } => "no_such_page",
            Error::UnknownDocument { .. } => "unknown_document",
            Error::AmbiguousDocument { .. } => "ambiguous_document",
            Error::PdfiumMissing { .. } => "pdfium_missing",
            Error::NoDataDir => "no_data_dir",
            Error::Library { .. } => "library",
            Error::Keyring { .. } => "keyring",
            Error::Database(_) => "database",
            Error::Io { .. } => "io",
            Error::Unwritable { .. } => "unwritable",
            Error::ReaderCrashed { .. } => "reader_crashed",
            Error::ReaderTimedOut { .. } => "reader_timed_out",
            Error::DiskFull { .. } => "disk_full",
            Error::ReadOnly { .. } => "read_only",
            Error::Internal { .. } => "internal",
            Error::ModelMissing { .. } => "model_missing",
            Error::ModelDamaged { .. } => "model_damaged",
            Error::HubFailed { .. } => "hub_failed",
            Error::ModelUnpinned { .. } => "model_unpinned",
            Error::NotEnoughMemory { .. } => "not_enough_memory",
            Error::Model { .. } => "model_failed",
            Error::BadQuestion { .. } => "bad_question",
            Error::BadSchema { .. } => "bad_schema",
            Error::OutputExists { .. } => "output_exists",
            Error::Cancelled => "cancelled",
        }
    }

    /// `{kind, message}` as the CLI's JSON and the desktop UI carry it.
    pub fn to_report(&self) -> ErrorReport {
        ErrorReport { kind: self.kind().to_string(), message: self.to_string() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        match source.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound { path },
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::IsADirectory => {
                Error::Unreadable { path, source }
            }
            _ => Error::Io { path, source },
        }
    }

    /// Writing `path` failed: a full disk and a read-only one are told apart from other failures
    /// (a folder one may not write in, say), since each calls for something different.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        let place = path.display().to_string();
        match source.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Error::DiskFull { place },
            std::io::ErrorKind::ReadOnlyFilesystem => Error::ReadOnly { place },
            _ => Error::Unwritable { path, source },
        }
    }
}

/// SQLite's full disk and read-only database are the engine's own kinds: the front ends word
/// advice for them.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        let place = || "the library's database".to_string();
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull { place: place() },
            Some(rusqlite::ErrorCode::ReadOnly) => Error::ReadOnly { place: place() },
            _ => Error::Database(e),
        }
    }
}

/// The serialisable face of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ErrorReport {
    pub kind: String,
    pub message: String,
}

/// What a caught panic says (its message, when it has one).
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_and_a_read_only_one_are_their_own_kinds() {
        let os = std::io::Error::from_raw_os_error;
        let full = Error::write("/out/fields.csv", os(libc::ENOSPC));
        assert_eq!(
            (full.kind(), full.to_string().as_str()),
            ("disk_full", "/out/fields.csv: no space left on the disk")
        );
        assert_eq!(Error::write("/out/x", os(libc::EDQUOT)).kind(), "disk_full");
        assert_eq!(Error::write("/out/x", os(libc::EROFS)).kind(), "read_only");
        assert_eq!(Error::write("/out/x", os(libc::EACCES)).kind(), "unwritable");
        let sqlite = |code| Error::from(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None));
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_FULL).kind(), "disk_full");
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_READONLY).kind(), "read_only");
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_CORRUPT).kind(), "database");
    }
}
