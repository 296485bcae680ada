//! What the scorers of every kind of set share: reading a ground-truth file, finding and
//! importing a set's documents, the set's name, and the report they give back.

use std::path::{Path, PathBuf};

use pagewise_engine::AddOptions;
use pagewise_engine::{DocId, Error, Library, Result};
use serde_json::Value;

pub fn read_json(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.into(), source: e })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Library { path: path.into(), detail: format!("not valid JSON: {e}") })
}

/// A set's scores: a printable table and the same figures as JSON.
pub struct Report {
    pub table: String,
    pub json: Value,
}

/// Import a file (a no-op when it is already there) as a user's `pagewise add` would; a path
/// that is no file names no document, as `pagewise` says of it.
pub fn import(lib: &mut Library, path: &Path) -> Result<DocId> {
    if !path.is_file() {
        return Err(Error::UnknownDocument { query: path.to_string_lossy().into_owned() });
    }
    let outcome = lib.add_file(path, &AddOptions::default(), &mut |_, _| {});
    match (outcome.doc_id, outcome.error) {
        (Some(id), None) => Ok(id),
        (_, Some(e)) => Err(Error::Library { path: path.into(), detail: e.message }),
        _ => unreachable!("an outcome without an id has an error"),
    }
}

pub fn set_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.display().to_string())
}

/// Where a set keeps its documents.
pub fn document_path(dir: &Path, file: &str) -> PathBuf {
    ["docs", "images"]
        .iter()
        .map(|d| dir.join(d).join(file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join("docs").join(file))
}
