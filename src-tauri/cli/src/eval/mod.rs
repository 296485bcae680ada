//! `pagewise eval DIR...`: score Pagewise on evaluation sets with ground truth (see
//! ../shared/eval/README.md). The kind of set is recognised from its ground-truth file, never
//! from its name. Documents go through the same path as a user's: imported into a (temporary)
//! library, analysed, read back.

mod layout_sets;
pub mod metrics;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagewise_engine::layout::LayoutMode;
use pagewise_engine::{Error, Library, Result};
use serde_json::Value;

use crate::commands::print_json;
use crate::Ctx;

pub fn run(ctx: &Ctx, sets: &[PathBuf], mode: LayoutMode) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut lib = Library::open(scratch.path())?;
    let mut reports = Vec::new();
    let mut unknown = 0;
    for dir in sets {
        let report = match read_json(&dir.join("layout.json")) {
            Ok(gt) if first_page(&gt).is_some_and(|p| p.get("tokens").is_some()) => layout_sets::docbank(&mut lib, dir, &gt, mode)?,
            Ok(gt) if first_page(&gt).is_some_and(|p| p.get("blocks").is_some()) => layout_sets::publaynet(&mut lib, dir, &gt, mode)?,
            _ => {
                eprintln!("{}: no ground truth this version can score (layout.json with tokens or blocks)", dir.display());
                unknown += 1;
                continue;
            }
        };
        if !ctx.json {
            println!("{}", report.table);
        }
        reports.push(report.json);
    }
    if ctx.json {
        print_json(&reports);
    }
    Ok(if unknown > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn first_page(gt: &Value) -> Option<&Value> {
    gt.get("pages")?.as_object()?.values().next()
}

pub fn read_json(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.into(), source: e })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Library { path: path.into(), detail: format!("not valid JSON: {e}") })
}

/// A set's scores: a printable table and the same figures as JSON.
pub struct Report {
    pub table: String,
    pub json: Value,
}
