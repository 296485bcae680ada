//! `pagewise-dev eval DIR...`: score Pagewise on evaluation sets with ground truth (see
//! ../shared/eval/README.md). The kind of set is recognised from its ground-truth file, never
//! from its name. Documents go through the same path as a user's: imported into a (temporary)
//! library, analysed, read back.

pub mod compare;
pub mod field_sets;
pub mod form_sets;
mod layout_sets;
pub mod metrics;
pub mod ocr_sets;
mod qa_sets;
pub mod sets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagewise_engine::LayoutMode;
use pagewise_engine::{Error, Library, Result};
use serde_json::Value;

use sets::read_json;

pub fn run(
    json: bool,
    sets: &[PathBuf],
    mode: LayoutMode,
    imports: Option<&Path>,
    beside_pymupdf: bool,
) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut lib = Library::open(imports.unwrap_or(scratch.path()))?;
    let mut reports = Vec::new();
    let mut unknown = 0;
    for dir in sets {
        let mut found = Vec::new();
        match read_json(&dir.join("layout.json")) {
            Ok(gt) if first_page(&gt).is_some_and(|p| p.get("tokens").is_some()) => {
                found.push(layout_sets::docbank(&mut lib, dir, &gt, mode, beside_pymupdf)?)
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
        if dir.join("kv.json").is_file() {
            found.push(form_sets::key_values(&mut lib, dir, mode)?);
        }
        if dir.join("qa.json").is_file() {
            found.push(qa_sets::questions(&mut lib, dir)?);
        }
        if found.is_empty() {
            eprintln!(
                "{}: no ground truth this version can score \
                 (layout.json with tokens or blocks, ocr_lines.json, fields.json, kv.json, qa.json)",
                dir.display()
            );
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
