//! `pagewise-dev bench ingest`: pages per second for import + text layer + reading order + index,
//! and, in the same run on the same files, pdfium's raw text extraction as the ceiling.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use pagewise_engine::{collect_files, pdfium, source, AddOptions, AddStatus, FileKind, Library, Result};
use serde_json::json;

use super::measure::{peak_rss_kib, reset_peak_rss};

pub fn run(json: bool, paths: &[PathBuf], synthetic: &[u32], repeat: u32) -> Result<ExitCode> {
    let scratch =
        tempfile::tempdir().map_err(|e| pagewise_engine::Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut files: Vec<PathBuf> = collect_files(paths)
        .into_iter()
        .filter(|p| std::fs::read(p).ok().and_then(|b| source::sniff(&b)) == Some(FileKind::Pdf))
        .collect();
    let mut memory = Vec::new();
    for &n in synthetic {
        let path = scratch.path().join(format!("article-{n}.pdf"));
        std::fs::write(&path, pagewise_testkit::article(n, n))
            .map_err(|e| pagewise_engine::Error::Io { path: path.clone(), source: e })?;
        // Reset the kernel's peak-RSS mark so the peak read afterwards is this ingest's own.
        let resident_before = reset_peak_rss();
        let (pages, secs) = ingest(scratch.path(), &[path.clone()], &format!("mem-{n}"))?;
        memory.push(json!({
            "pages": pages,
            "seconds": secs,
            "rss_mib_before": resident_before / 1024,
            "peak_rss_mib": peak_rss_kib() / 1024
        }));
        files.push(path);
    }
    if files.is_empty() {
        eprintln!("no PDF files to measure: give PDF files or folders, or --synthetic N");
        return Ok(ExitCode::from(2));
    }
    let mut best_ingest = (0u32, f64::INFINITY);
    let mut best_raw = (0u32, f64::INFINITY);
    for r in 0..repeat.max(1) {
        let raw = raw_pdfium(&files)?;
        let ing = ingest(scratch.path(), &files, &format!("run-{r}"))?;
        if raw.1 < best_raw.1 {
            best_raw = raw;
        }
        if ing.1 < best_ingest.1 {
            best_ingest = ing;
        }
    }
    let rate = |(p, s): (u32, f64)| p as f64 / s.max(1e-9);
    let report = json!({
        "files": files.len(),
        "pages": best_ingest.0,
        "pagewise_ingest": {"seconds": best_ingest.1, "pages_per_second": rate(best_ingest)},
        "pdfium_raw_text": {"seconds": best_raw.1, "pages_per_second": rate(best_raw)},
        "ratio_to_pdfium": rate(best_ingest) / rate(best_raw),
        "peak_rss_mib": peak_rss_kib() / 1024,
        "synthetic_memory": memory,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    if json {
        println!("{report}");
    } else {
        println!("files: {}   pages: {}   (best of {repeat})", files.len(), best_ingest.0);
        println!(
            "  pagewise ingest (import + text layer + order + index): {:>8.1} pages/s  ({:.3} s)",
            rate(best_ingest),
            best_ingest.1
        );
        println!(
            "  pdfium raw text extraction (the ceiling):               {:>8.1} pages/s  ({:.3} s)",
            rate(best_raw),
            best_raw.1
        );
        println!("  ratio: {:.2} of pdfium's raw speed", rate(best_ingest) / rate(best_raw));
        for m in &memory {
            println!(
                "  synthetic {} pages: ingested in {:.2} s, peak RSS during the ingest {} MiB \
                 (resident before: {} MiB)",
                m["pages"],
                m["seconds"].as_f64().unwrap_or(0.0),
                m["peak_rss_mib"],
                m["rss_mib_before"]
            );
        }
        println!("  peak RSS of the whole run: {} MiB", peak_rss_kib() / 1024);
    }
    Ok(ExitCode::SUCCESS)
}

/// Import `files` into a fresh library; (pages imported, seconds).
fn ingest(scratch: &std::path::Path, files: &[PathBuf], name: &str) -> Result<(u32, f64)> {
    let mut lib = Library::open(&scratch.join(name))?;
    let start = Instant::now();
    let outcomes = lib.add_files(
        files,
        &AddOptions { skip_ocr: true, ..Default::default() },
        &AtomicBool::new(false),
        &mut |_| {},
    )?;
    let secs = start.elapsed().as_secs_f64();
    let pages = outcomes.iter().filter(|o| o.status == AddStatus::Added).map(|o| o.pages).sum();
    Ok((pages, secs))
}

/// pdfium alone: open each file and extract every page's text; (pages, seconds).
fn raw_pdfium(files: &[PathBuf]) -> Result<(u32, f64)> {
    let files = files.to_vec();
    let start = Instant::now();
    let pages = pdfium::worker()?.run(move |pdfium| {
        let mut pages = 0u32;
        for f in &files {
            let Ok(doc) = pdfium.load_pdf_from_file(f, None) else { continue };
            for page in doc.pages().iter() {
                if let Ok(text) = page.text() {
                    std::hint::black_box(text.all());
                }
                pages += 1;
            }
        }
        pages
    })?;
    Ok((pages, start.elapsed().as_secs_f64()))
}
