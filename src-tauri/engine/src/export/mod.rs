//! Exports of extracted fields: CSV (RFC 4180, safe to open in a spreadsheet) and JSON with
//! evidence. Files are written whole to a temporary name and renamed, so a failed export never
//! leaves half a file, and an existing file is replaced only when asked.

pub mod csv;

use std::io::Write;
use std::path::Path;

use crate::model::DocumentFields;
use crate::{Error, Result};

/// Write `bytes` to `path`: refuse an existing file unless `replace`; never leave a partial file.
pub fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<()> {
    if path.exists() && !replace {
        return Err(Error::OutputExists { path: path.into() });
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let unwritable = |source| Error::write(path, source);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(unwritable)?;
    // Synced before the rename: a disk that fills up late says so here, not after the rename.
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all()).map_err(unwritable)?;
    tmp.persist(path).map_err(|e| unwritable(e.error))?;
    Ok(())
}

/// JSON: every document with its values and their evidence.
pub fn to_json(docs: &[DocumentFields]) -> Vec<u8> {
    serde_json::to_vec_pretty(docs).expect("field values serialise")
}
