//! The layout commands: `layout`, `tables`, and `text --format markdown`.

use std::path::Path;
use std::process::ExitCode;

use pagewise_engine::{page_markdown, table_csv, Document, Error, LayoutMode, PageLayout, Result};
use serde_json::json;

use crate::context::{open, print_json, resolve, worded, Ctx};

/// The layout of one page or all pages; exit 1 when a page could not be analysed.
fn layouts(ctx: &Ctx, doc: &str, page: Option<u32>, mode: LayoutMode) -> Result<(Document, Vec<PageLayout>)> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    if let Some(n) = page {
        lib.page(&d.id, n)?; // a clear "no page N" before any work
    }
    let mut all = lib.document_layout(&d.id, mode)?;
    if let Some(n) = page {
        all.retain(|l| l.page == n);
    }
    Ok((d, all))
}

fn exit_for(pages: &[PageLayout]) -> ExitCode {
    for p in pages.iter().filter(|p| p.error.is_some()) {
        eprintln!("page {}: {}", p.page, worded(p.error.as_ref().unwrap()));
    }
    if pages.iter().any(|p| p.error.is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn layout(ctx: &Ctx, doc: &str, page: Option<u32>, mode: LayoutMode) -> Result<ExitCode> {
    let (d, pages) = layouts(ctx, doc, page, mode)?;
    if ctx.json {
        print_json(&json!({"doc_id": d.id, "name": d.name, "mode": mode, "pages": pages}));
        return Ok(exit_for(&pages));
    }
    for p in &pages {
        println!("--- page {} ({:.0} x {:.0} pt) ---", p.page, p.width, p.height);
        for r in &p.regions {
            let b = r.bbox;
            let mut text: String = r.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.chars().count() > 70 {
                text = text.chars().take(69).collect::<String>() + "…";
            }
            let grid = r.grid_size().map(|(rows, cols)| format!(" {rows}x{cols}")).unwrap_or_default();
            println!(
                "{:>3}  {:<15}{grid:<7} [{:>5.0} {:>5.0} {:>5.0} {:>5.0}]  {:.2} {:<9}  {text}",
                r.order + 1,
                r.label.as_str(),
                b.x0,
                b.y0,
                b.x1,
                b.y1,
                r.confidence,
                format!("{:?}", r.source).to_lowercase()
            );
        }
    }
    Ok(exit_for(&pages))
}

pub fn tables(ctx: &Ctx, doc: &str, page: Option<u32>, csv_dir: Option<&Path>, mode: LayoutMode) -> Result<ExitCode> {
    let (d, pages) = layouts(ctx, doc, page, mode)?;
    if let Some(dir) = csv_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.into(), source: e })?;
    }
    let stem: String = Path::new(&d.name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| d.id.short().to_string());
    let mut written = Vec::new();
    for p in &pages {
        for (k, r) in p.regions.iter().filter(|r| r.cells.is_some()).enumerate() {
            let csv = table_csv(r.cells.as_ref().unwrap());
            let (rows, cols) = r.grid_size().unwrap_or((0, 0));
            match csv_dir {
                Some(dir) => {
                    let path = dir.join(format!("{stem}-p{}-t{}.csv", p.page, k + 1));
                    std::fs::write(&path, &csv).map_err(|e| Error::Io { path: path.clone(), source: e })?;
                    written.push(json!({
                        "page": p.page, "table": k + 1, "rows": rows, "cols": cols, "bbox": r.bbox, "csv": path
                    }));
                }
                None if ctx.json => written.push(json!({
                    "page": p.page, "table": k + 1, "rows": rows, "cols": cols, "bbox": r.bbox, "cells": r.cells
                })),
                None => println!("--- page {} table {} ({rows} x {cols}) ---\n{csv}", p.page, k + 1),
            }
        }
    }
    if ctx.json {
        print_json(&json!({"doc_id": d.id, "tables": written}));
    } else if csv_dir.is_some() {
        for w in &written {
            println!("{}", w["csv"].as_str().unwrap_or_default());
        }
        eprintln!("{} tables written", written.len());
    }
    Ok(exit_for(&pages))
}

pub fn markdown(ctx: &Ctx, doc: &str, page: Option<u32>) -> Result<ExitCode> {
    let (d, pages) = layouts(ctx, doc, page, LayoutMode::Auto)?;
    let text: Vec<String> = pages.iter().map(page_markdown).collect();
    if ctx.json {
        let pages: Vec<_> = pages.iter().zip(&text).map(|(p, t)| json!({"page": p.page, "markdown": t})).collect();
        print_json(&json!({"doc_id": d.id, "pages": pages}));
    } else {
        println!("{}", text.join("\n\n---\n\n"));
    }
    Ok(exit_for(&pages))
}
