//! What the end-to-end tests need from outside the checkout: libpdfium (fetched by the set-up)
//! and ../shared/eval. Where either is absent a test skips with a visible `SKIP` line.

use std::path::{Path, PathBuf};

/// True when libpdfium can be found; otherwise prints a visible skip line.
pub fn pdfium_available(test: &str) -> bool {
    let vendored = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/pdfium/libpdfium.so");
    let ok = std::env::var_os("PAGEWISE_PDFIUM").is_some() || vendored.is_file();
    if !ok {
        eprintln!("SKIP {test}: libpdfium is absent (run `bash scripts/dev.sh setup`)");
    }
    ok
}

/// ../shared/eval (or $PAGEWISE_EVAL) when it and libpdfium are there; else a visible skip.
pub fn eval_root(test: &str) -> Option<PathBuf> {
    if !pdfium_available(test) {
        return None;
    }
    let root = std::env::var_os("PAGEWISE_EVAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval"));
    if !root.is_dir() {
        eprintln!("SKIP {test}: ../shared/eval is absent");
        return None;
    }
    Some(root)
}
