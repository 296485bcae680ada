//! Repair before giving up: a PDF that pdfium refuses (a cross-reference table that points
//! nowhere, a trailer that lost its catalog) is read by lopdf, which rebuilds the table by
//! scanning for objects and looks for the catalog among them, and written out again whole. When
//! lopdf cannot read it either and qpdf is installed, qpdf has its try. Runs in a worker: both
//! parse the same untrusted bytes pdfium choked on.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Error, Result};

/// Largest file a repair is tried on: lopdf holds the whole file and its objects in memory.
pub const MAX_REPAIR_BYTES: u64 = 256 << 20;

pub fn repair_pdf(path: &Path, out: &Path) -> Result<()> {
    let size = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if size > MAX_REPAIR_BYTES {
        let detail = format!("{size} bytes is above the {MAX_REPAIR_BYTES} bytes a repair is tried on");
        return Err(Error::Corrupt { path: path.into(), format: "PDF", detail });
    }
    let lopdf = lopdf::Document::load(path)
        .and_then(|mut doc| {
            if doc.get_pages().is_empty() {
                return Err(lopdf::Error::PageNumberNotFound(1));
            }
            doc.save(out).map(|_| ()).map_err(lopdf::Error::from)
        })
        .map_err(|e| format!("lopdf: {e}"));
    let Err(lopdf) = lopdf else { return Ok(()) };
    let _ = std::fs::remove_file(out);
    let qpdf = with_qpdf(path, out);
    let Err(qpdf) = qpdf else { return Ok(()) };
    let _ = std::fs::remove_file(out);
    Err(Error::Corrupt {
        path: path.into(),
        format: "PDF",
        detail: format!("no repair could read it ({lopdf}; {qpdf})"),
    })
}

/// qpdf's own recovery, when qpdf is on the PATH. Its exit code 3 means "written, with warnings".
fn with_qpdf(path: &Path, out: &Path) -> std::result::Result<(), String> {
    let status = Command::new("qpdf")
        .arg(path)
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|_| "qpdf: not installed".to_string())?;
    match status.code() {
        Some(0 | 3) if out.is_file() => Ok(()),
        _ => Err(format!("qpdf: {status}")),
    }
}
