//! Findings on disk: `<out>/<target>/crashes/<kind>-<signature>-<input>.bin` with a `.txt`
//! beside it saying what happened. Inputs of one signature (one panic site, one exit status with
//! the same last words) are kept up to a few, so that a bug found a thousand times is not saved
//! a thousand times.

use std::path::{Path, PathBuf};

use pagewise_engine::Result;

use super::io;

/// Examples kept of one signature.
const PER_SIGNATURE: usize = 3;

/// FNV-1a, 64 bits: stable names for signatures and inputs (no hashing crate needed).
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Save `input` as a finding of `kind` ("panic", "crash", "timeout"); `None` when this exact
/// input or enough of its signature are already saved.
pub fn save(dir: &Path, kind: &str, signature: &str, input: &[u8], detail: &str) -> Result<Option<PathBuf>> {
    let crashes = dir.join("crashes");
    std::fs::create_dir_all(&crashes).map_err(io(&crashes))?;
    let prefix = format!("{kind}-{:016x}-", fnv(signature.as_bytes()));
    let path = crashes.join(format!("{prefix}{:016x}.bin", fnv(input)));
    let same = std::fs::read_dir(&crashes)
        .map_err(io(&crashes))?
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with(&prefix) && e.path().extension() == Some("bin".as_ref())
        })
        .count();
    if path.exists() || same >= PER_SIGNATURE {
        return Ok(None);
    }
    std::fs::write(&path, input).map_err(io(&path))?;
    let note = path.with_extension("txt");
    std::fs::write(&note, format!("{kind}: {signature}\n\n{detail}\n")).map_err(io(&note))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_saved_once_and_a_few_per_signature() {
        let dir = tempfile::tempdir().unwrap();
        let first = save(dir.path(), "panic", "at a.rs:1", b"one", "detail").unwrap().unwrap();
        assert_eq!(std::fs::read(&first).unwrap(), b"one");
        assert!(std::fs::read_to_string(first.with_extension("txt")).unwrap().contains("at a.rs:1"));
        assert_eq!(save(dir.path(), "panic", "at a.rs:1", b"one", "detail").unwrap(), None, "saved twice");
        let more: Vec<_> = (0..5).filter_map(|i| save(dir.path(), "panic", "at a.rs:1", &[i], "d").unwrap()).collect();
        assert_eq!(more.len(), PER_SIGNATURE - 1);
        assert!(save(dir.path(), "panic", "at b.rs:2", b"one", "detail").unwrap().is_some(), "another signature");
    }
}
