//! `pagewise eval DIR...`: score Pagewise on evaluation sets with ground truth (see
//! ../shared/eval/README.md). The kind of set is recognised from its ground-truth file, never
//! from its name. Documents go through the same path as a user's: imported into a (temporary)
//! library, analysed, read back.

mod compare;
mod field_sets;
mod layout_sets;
pub mod metrics;
mod ocr_sets;
mod qa_sets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagewise_engine::layout::LayoutMode;
use pagewise_engine::pipeline::{self, AddOptions};
use pagewise_engine::{DocId, Error, Library, Result};
use serde_json::Value;

pub fn run(json: bool, sets: &[PathBuf], mode: LayoutMode) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut lib = Library::open(scratch.path())?;
    let mut reports = Vec::new();
    let mut unknown = 0;
    for dir in sets {
        let mut found = Vec::new();
        match read_json(&dir.join("layout.json")) {
            Ok(gt) if first_page(&gt).is_some_and(|p| p.get("tokens").is_some()) => {
                found.push(layout_sets::docbank(&mut lib, dir, &gt, mode)?)
            }
            Ok(gt) if first_page(&gt).is_some_and(|p| p.get("blocks").is_some()) => {
                found.push(layout_sets::publaynet(&mut lib, dir, &gt, mode)?)
            }
            _ => {}
        }
        if dir.join("ocr_lines.json").is_file() {
            found.push(ocr_sets::transcripts(&mut lib, dir)?);
        }
        if dir.join("images").is_dir() && dir.join("qa.json").is_file() {
            found.push(ocr_sets::answers(&mut lib, dir)?);
        }
        if dir.join("fields.json").is_file() {
            found.extend(field_sets::fields(&mut lib, dir)?);
        }
        if dir.join("qa.json").is_file() {
            found.push(qa_sets::questions(&mut lib, dir)?);
        }
        if found.is_empty() {
            eprintln!("{}: no ground truth this version can score (layout.json with tokens or blocks, ocr_lines.json, fields.json, qa.json)", dir.display());
            unknown += 1;
        }
        for report in found {
            if !json {
                println!("{}", report.table);
            }
            reports.push(report.json);
        }
    }
    if json {
        println!("{}", Value::Array(reports));
    }
    Ok(if unknown > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn first_page(gt: &Value) -> Option<&Value> {
    gt.get("pages")?.as_object()?.values().next()
}

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
pub(crate) fn import(lib: &mut Library, path: &Path) -> Result<DocId> {
    if !path.is_file() {
        return Err(Error::UnknownDocument { query: path.to_string_lossy().into_owned() });
    }
    let outcome = pipeline::add_file(lib, path, &AddOptions::default(), &mut |_, _| {});
    match (outcome.doc_id, outcome.error) {
        (Some(id), None) => Ok(id),
        (_, Some(e)) => Err(Error::Library { path: path.into(), detail: e.message }),
        _ => unreachable!("an outcome without an id has an error"),
    }
}

pub(crate) fn set_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.display().to_string())
}
