//! `pagewise-dev bench library`: a large generated library (10,000 documents of 10 pages by
//! default): import throughput per slice, from the first documents to the last; the library
//! list and full-text search (p50/p95 per query, first page and a deep page); and the first
//! search by meaning (it embeds every page, with progress events) on a stated subset.
//!
//! The library is kept (`--library DIR`); run again, it imports only the documents it lacks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use pagewise_engine::{AddOptions, AddStatus, Error, Library, Meaning, Progress, Result};
use pagewise_testkit::{library_document, reference, TOPICS};
use serde_json::{json, Value};

use super::measure::peak_rss_kib;

pub struct LibraryBench {
    pub docs: u32,
    pub pages: u32,
    pub library: PathBuf,
    /// Documents per import slice (throughput is reported per slice).
    pub slice: u32,
    /// Documents of the subset the first search by meaning is measured on (0: none).
    pub semantic_docs: u32,
    /// Runs of each list and search measurement.
    pub repeat: usize,
}

/// Documents per page of the library list (as the app asks for them).
const LIST_PAGE: u64 = 100;
/// Hits per page of search results (the CLI's default).
const HITS: usize = 20;

pub fn run(json: bool, b: &LibraryBench) -> Result<ExitCode> {
    let mut report = json!({ "docs": b.docs, "pages_per_doc": b.pages, "library": b.library.display().to_string() });
    report["import_slices"] = import(&b.library, 0, b.docs, b.pages, b.slice, !json)?.into();
    let lib = Library::open(&b.library)?;
    report["list_ms"] = time_list(&lib, b.repeat)?;
    report["search_ms"] = time_search(&lib, b.docs, b.repeat)?;
    if b.semantic_docs > 0 {
        let dir = b.library.with_file_name(format!("{}-semantic", file_name(&b.library)));
        import(&dir, 0, b.semantic_docs, b.pages, b.slice, !json)?;
        report["semantic"] = time_semantic(&dir, !json)?;
    }
    report["library_mib"] = (dir_bytes(&b.library) / (1 << 20)).into();
    report["peak_rss_mib"] = (peak_rss_kib() / 1024).into();
    if json {
        println!("{report}");
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Import documents `from..to` into the library at `dir` in slices, skipping those it has;
/// each slice's documents/s and pages/s (generating the PDFs is not timed).
fn import(dir: &Path, from: u32, to: u32, pages: u32, slice: u32, verbose: bool) -> Result<Vec<Value>> {
    let mut lib = Library::open(dir)?;
    let have = (lib.count_documents()? as u32).max(from);
    let scratch = tempfile::tempdir_in(dir.parent().unwrap_or(dir)).map_err(|e| io(dir, e))?;
    let mut slices = Vec::new();
    let mut start = have;
    while start < to {
        let end = (start + slice.max(1)).min(to);
        let files: Vec<PathBuf> = (start..end)
            .map(|n| {
                let path = scratch.path().join(format!("doc-{n:06}.pdf"));
                std::fs::write(&path, library_document(n, pages)).map(|_| path.clone()).map_err(|e| io(&path, e))
            })
            .collect::<Result<_>>()?;
        let opts = AddOptions { skip_ocr: true, ..Default::default() };
        let (t, cpu) = (Instant::now(), cpu_ms());
        let outcomes = lib.add_files(&files, &opts, &AtomicBool::new(false), &mut |_| {})?;
        let (secs, cpu_secs) = (t.elapsed().as_secs_f64(), (cpu_ms() - cpu) / 1000.0);
        let added = outcomes.iter().filter(|o| o.status == AddStatus::Added).count();
        let added_pages: u32 = outcomes.iter().map(|o| o.pages).sum();
        let s = json!({
            "first": start, "last": end - 1, "added": added, "seconds": secs,
            "docs_per_s": added as f64 / secs, "pages_per_s": added_pages as f64 / secs,
            "cpu_seconds": cpu_secs, "pages_per_cpu_s": added_pages as f64 / cpu_secs,
        });
        if verbose {
            eprintln!(
                "imported {start}..{end}: {:.0} pages/s, {:.0} pages per CPU second",
                added_pages as f64 / secs,
                added_pages as f64 / cpu_secs
            );
        }
        slices.push(s);
        for f in &files {
            let _ = std::fs::remove_file(f);
        }
        start = end;
    }
    Ok(slices)
}

/// The library list as the app pages through it: the count and a page of documents, at
/// offsets spread over the whole library.
fn time_list(lib: &Library, repeat: usize) -> Result<Value> {
    let total = lib.count_documents()?;
    let mut first = Vec::new();
    let mut spread = Vec::new();
    for r in 0..repeat {
        first.push(timed(|| lib.count_documents().and_then(|_| lib.documents(0, LIST_PAGE)))?);
        let offset = total.saturating_sub(LIST_PAGE) * (r as u64 % 10) / 9;
        spread.push(timed(|| lib.count_documents().and_then(|_| lib.documents(offset, LIST_PAGE)))?);
    }
    Ok(json!({ "documents": total, "first_page": stats(first), "any_page": stats(spread) }))
}

/// Full-text searches: a word on every page, a topic (one document in twenty), two words, a
/// prefix and one document's own reference; the first page of hits and the eleventh.
fn time_search(lib: &Library, docs: u32, repeat: usize) -> Result<Value> {
    let queries =
        ["document".to_string(), TOPICS[3].into(), "invoice total".into(), "contr*".into(), reference(docs / 2)];
    let mut out = serde_json::Map::new();
    let mut all = Vec::new();
    for q in &queries {
        let mut first = Vec::new();
        let mut deep = Vec::new();
        let mut hits = 0;
        for _ in 0..repeat {
            first.push(timed(|| lib.search(q, 0, HITS).map(|h| hits = h.len()))?);
            deep.push(timed(|| lib.search(q, 10 * HITS, HITS))?);
        }
        all.extend(first.iter().chain(&deep));
        out.insert(
            q.clone(),
            json!({ "hits_on_first_page": hits, "first_page": stats(first), "page_11": stats(deep) }),
        );
    }
    out.insert("all".into(), stats(all));
    Ok(out.into())
}

/// The first search by meaning on the library at `dir`: it embeds every page (progress events
/// on the way), then a second search that finds them embedded.
fn time_semantic(dir: &Path, verbose: bool) -> Result<Value> {
    let lib = Library::open(dir)?;
    let mut meaning = Meaning::installed();
    if !meaning.available() {
        eprintln!("SKIP search by meaning: the embedding model is not installed (bash scripts/dev.sh models)");
        return Ok(json!({ "skipped": "the embedding model is not installed" }));
    }
    let (t, cpu) = (Instant::now(), cpu_ms());
    let (mut events, mut first_event_s, mut total) = (0u32, None, 0u64);
    lib.semantic_search("rental agreement for a flat", 0, HITS, &mut meaning, &mut |e| {
        if let Progress::Embedding { done, total: t_ } = e {
            events += 1;
            total = *t_;
            first_event_s.get_or_insert(t.elapsed().as_secs_f64());
            if verbose && (done % 1024 < 64 || done == t_) {
                eprintln!("embedding: {done}/{t_} pages");
            }
        }
    })?;
    let (first_s, first_cpu_s) = (t.elapsed().as_secs_f64(), (cpu_ms() - cpu) / 1000.0);
    let again = (0..5).map(|_| timed(|| lib.semantic_search("payment overdue", 0, HITS, &mut meaning, &mut |_| {})));
    Ok(json!({
        "documents": lib.count_documents()?, "pages_embedded": total, "progress_events": events,
        "first_progress_after_s": first_event_s, "first_search_s": first_s,
        "first_search_cpu_s": first_cpu_s, "pages_per_s": total as f64 / first_s,
        "pages_per_cpu_s": total as f64 / first_cpu_s, "later_search_ms": stats(again.collect::<Result<_>>()?),
    }))
}

/// Milliseconds `f` took: (wall clock, this process's CPU time). On a shared machine the wall
/// clock includes waiting for a core; the CPU time is the work itself.
fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(f64, f64)> {
    let (t, cpu) = (Instant::now(), cpu_ms());
    f()?;
    Ok((t.elapsed().as_secs_f64() * 1000.0, cpu_ms() - cpu))
}

fn cpu_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

/// p50/p95/max of (wall, CPU) samples, each.
fn stats(samples: Vec<(f64, f64)>) -> Value {
    let (wall, cpu): (Vec<f64>, Vec<f64>) = samples.into_iter().unzip();
    json!({ "wall": quantiles(wall), "cpu": quantiles(cpu) })
}

fn quantiles(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1))).copied().unwrap_or(0.0);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    json!({ "n": ms.len(), "p50": round(q(0.5)), "p95": round(q(0.95)), "max": round(q(1.0)) })
}

fn print_report(r: &Value) {
    let slices = r["import_slices"].as_array().cloned().unwrap_or_default();
    println!("library: {} documents of {} pages at {}", r["list_ms"]["documents"], r["pages_per_doc"], r["library"]);
    if let (Some(a), Some(z)) = (slices.first(), slices.last()) {
        let line = |s: &Value| {
            format!(
                "docs {}..{}: {:.1} docs/s, {:.0} pages/s, {:.0} pages per CPU second",
                s["first"],
                s["last"],
                f(&s["docs_per_s"]),
                f(&s["pages_per_s"]),
                f(&s["pages_per_cpu_s"])
            )
        };
        println!("  import, first slice  {}", line(a));
        println!("  import, last slice   {}", line(z));
    }
    let p = |v: &Value| {
        let (w, c) = (&v["wall"], &v["cpu"]);
        format!("p50 {:.1}/{:.1} p95 {:.1}/{:.1} ms", f(&w["p50"]), f(&c["p50"]), f(&w["p95"]), f(&c["p95"]))
    };
    println!("  (times: wall clock / CPU)");
    println!("  list, first page     {}", p(&r["list_ms"]["first_page"]));
    println!("  list, any page       {}", p(&r["list_ms"]["any_page"]));
    if let Some(queries) = r["search_ms"].as_object() {
        for (q, v) in queries.iter().filter(|(q, _)| *q != "all") {
            println!(
                "  search {:<14} first page {}   page 11 {}",
                format!("'{q}'"),
                p(&v["first_page"]),
                p(&v["page_11"])
            );
        }
        println!("  search, all queries  {}", p(&r["search_ms"]["all"]));
    }
    if !r["semantic"].is_null() {
        println!("  search by meaning    {}", r["semantic"]);
    }
    println!("  library on disk {} MiB, peak RSS {} MiB", r["library_mib"], r["peak_rss_mib"]);
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "library".into())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.into(), source }
}
