//! `pagewise-dev bench ask DOCS...`: latency of a question on documents already imported and
//! analysed (p50/p95, the answer alone and from the library), and documents per second for
//! `extract --schema invoice` over the same documents.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use pagewise_engine::ask::{Answerer, Question};
use pagewise_engine::{
    collect_files, AddOptions, Answering, DocId, Error, Extractive, Library, Meaning, Result, Schema,
};
use serde_json::json;

use super::measure::peak_rss_kib;

const QUESTIONS: [&str; 6] = [
    "What is the total?",
    "What is the invoice date?",
    "What is the invoice number?",
    "Who is the issuer of the invoice?",
    "When is this due?",
    "What is the currency?",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn millis(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({
        "n": v.len(),
        "p50_ms": percentile(&v, 0.5) * 1e3,
        "p95_ms": percentile(&v, 0.95) * 1e3,
        "max_ms": v[v.len() - 1] * 1e3
    })
}

fn import(dir: &std::path::Path, files: &[PathBuf]) -> Result<(Library, Vec<DocId>)> {
    let mut lib = Library::open(dir)?;
    let outcomes = lib.add_files(files, &AddOptions::default(), &AtomicBool::new(false), &mut |_| {})?;
    let ids = outcomes.into_iter().filter_map(|o| o.doc_id).collect();
    Ok((lib, ids))
}

pub fn run(json: bool, paths: &[PathBuf], repeat: u32) -> Result<ExitCode> {
    let files = collect_files(paths);
    if files.is_empty() {
        eprintln!("no documents to measure: give files or folders");
        return Ok(ExitCode::from(2));
    }
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let (lib, ids) = import(&scratch.path().join("ask"), &files)?;
    let mut answerer = Extractive::new(Meaning::installed());
    let embeddings = answerer.meaning.available();
    // Warm: layouts analysed and cached, the embedding model loaded, label embeddings cached.
    let mut cold = Vec::new();
    for id in &ids {
        let t = Instant::now();
        for q in QUESTIONS {
            lib.ask(id, q, None, &mut Answering::Extractive(&mut answerer))?;
        }
        cold.push(t.elapsed().as_secs_f64() / QUESTIONS.len() as f64);
    }
    let (mut answer_only, mut from_library) = (Vec::new(), Vec::new());
    for _ in 0..repeat.max(1) {
        for id in &ids {
            let prepared = lib.prepare(id, None)?;
            let pages = prepared.view();
            for q in QUESTIONS {
                let t = Instant::now();
                answerer.answer(&pages, &Question::parse(q));
                answer_only.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                lib.ask(id, q, None, &mut Answering::Extractive(&mut answerer))?;
                from_library.push(t.elapsed().as_secs_f64());
            }
        }
    }
    // Extraction throughput on a fresh library (nothing stored yet), import not counted.
    let (lib2, ids2) = import(&scratch.path().join("extract"), &files)?;
    let schema = Schema::load("invoice")?;
    let t = Instant::now();
    for id in &ids2 {
        lib2.extract_document(id, &schema, &mut Answering::Extractive(&mut answerer))?;
    }
    let extract_secs = t.elapsed().as_secs_f64();
    let report = json!({
        "documents": ids.len(),
        "questions": QUESTIONS.len(),
        "embeddings": embeddings,
        "first_ask_ms_mean": cold.iter().sum::<f64>() / cold.len().max(1) as f64 * 1e3,
        "answer_on_loaded_document": millis(answer_only),
        "ask_from_library": millis(from_library),
        "extract_invoice_docs_per_s": ids2.len() as f64 / extract_secs,
        "extract_seconds": extract_secs,
        "peak_rss_mib": peak_rss_kib() / 1024,
    });
    if json {
        println!("{report}");
    } else {
        println!(
            "bench ask — {} documents, {} questions each, embeddings {}",
            ids.len(),
            QUESTIONS.len(),
            if embeddings { "on" } else { "off (model missing)" }
        );
        let line = |name: &str, v: &serde_json::Value| {
            println!(
                "  {name:<34} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  (n={})",
                v["p50_ms"].as_f64().unwrap(),
                v["p95_ms"].as_f64().unwrap(),
                v["max_ms"].as_f64().unwrap(),
                v["n"]
            )
        };
        line("answer (document loaded)", &report["answer_on_loaded_document"]);
        line("ask (from the library)", &report["ask_from_library"]);
        println!(
            "  first ask of a document (cold)      {:>7.1} ms on average (layout analysis, label embeddings)",
            report["first_ask_ms_mean"].as_f64().unwrap()
        );
        println!(
            "  extract --schema invoice             {:>7.2} documents/s ({} documents in {:.2} s)",
            report["extract_invoice_docs_per_s"].as_f64().unwrap(),
            ids2.len(),
            extract_secs
        );
        println!("  peak RSS                             {:>7} MiB", report["peak_rss_mib"]);
    }
    Ok(ExitCode::SUCCESS)
}
