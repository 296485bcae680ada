//! The files beside the database: imported originals and cached thumbnails. Each is written
//! whole under a temporary name and renamed (a crash never leaves half a file), and, like the
//! library's folders and database, is readable by its owner only: a library holds people's
//! contracts and invoices.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::Store;
use crate::model::{DocId, FileKind};
use crate::{Error, Result};

impl Store {
    /// Keep a document's original, copied from `from` and on disk before it is named (the
    /// database that will point to it may outlive a power cut); where it was put.
    pub fn keep_original(&self, id: &DocId, kind: FileKind, from: &mut dyn Read) -> Result<PathBuf> {
        let path = self.original_path(id, kind);
        write_private(&path, from, true)?;
        Ok(path)
    }

    /// Keep the repaired copy of a PDF, written by a worker at `part`; where it was put.
    pub fn keep_repaired(&self, id: &DocId, part: &Path) -> Result<PathBuf> {
        let path = self.repaired_path(id);
        make_private(part, false).map_err(|e| Error::Io { path: part.into(), source: e })?;
        std::fs::rename(part, &path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        Ok(path)
    }

    /// Keep a page's thumbnail (PNG bytes); where it was put.
    pub fn keep_thumbnail(&self, id: &DocId, page: u32, png: &[u8]) -> Result<PathBuf> {
        let path = self.thumbnail_path(id, page);
        write_private(&path, &mut &png[..], false)?;
        Ok(path)
    }
}

/// What `from` reads, written to `path` through a temporary file, readable by the owner only.
fn write_private(path: &Path, from: &mut dyn Read, durable: bool) -> Result<()> {
    let tmp = path.with_extension("part");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&tmp)
        .and_then(|mut file| {
            std::io::copy(from, &mut file)?;
            if durable {
                file.sync_all()?;
            }
            Ok(())
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    // A full disk leaves no part-file behind to take the space a rerun needs.
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::write(path, e)
    })
}

/// Only the owner may read or write `path` (a folder of the library, or its database).
pub(super) fn make_private(path: &Path, folder: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if folder { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, folder);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_library_and_what_it_keeps_are_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let lib_dir = dir.path().join("library");
        let store = Store::open(&lib_dir).unwrap();
        let id = DocId("ab".repeat(32));
        let original = store.keep_original(&id, FileKind::Pdf, &mut &b"%PDF-1.7"[..]).unwrap();
        let thumb = store.keep_thumbnail(&id, 1, b"png").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        for folder in [lib_dir.clone(), lib_dir.join("originals"), lib_dir.join("thumbs")] {
            assert_eq!(mode(&folder), 0o700, "{}", folder.display());
        }
        for file in [lib_dir.join("library.sqlite3"), original.clone(), thumb] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        assert_eq!(std::fs::read(original).unwrap(), b"%PDF-1.7");
    }
}
