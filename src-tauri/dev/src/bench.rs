//! `pagewise bench ingest`: pages per second for import + text layer + reading order + index,
//! and, in the same run on the same files, pdfium's raw text extraction as the ceiling.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use clap::Subcommand;
use pagewise_engine::pipeline::{self, collect_files, AddOptions, AddStatus};
use pagewise_engine::{pdfium, source, FileKind, Library, Result};
use serde_json::json;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Import speed against pdfium's raw text extraction on the same PDFs
    Ingest {
        /// PDF files or folders
        paths: Vec<PathBuf>,
        /// Also ingest generated two-column articles of these page counts (e.g. 100,1000),
        /// reporting peak memory after each, to show memory stays flat in the page count
        #[arg(long, value_delimiter = ',')]
        synthetic: Vec<u32>,
        /// Runs of each measurement; the best is reported
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
    /// OCR speed: seconds per page image in detection, orientation and recognition, beside
    /// RapidOCR on onnxruntime with the same models and images; peak memory
    Ocr {
        /// Page images or folders of them
        paths: Vec<PathBuf>,
        /// At most this many images
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Question latency (p50/p95) on imported, analysed documents, and extraction documents/s
    Ask {
        /// Documents or folders (invoices make the default questions meaningful)
        paths: Vec<PathBuf>,
        /// Passes over every document and question
        #[arg(long, default_value_t = 5)]
        repeat: u32,
    },
    /// Vision-language model speed: Qwen3-VL-2B or PaddleOCR-VL at full size with random weights
    /// on a page or region image (prefill, first token, decode, peak memory) beside PyTorch, and
    /// the decode ceiling that memory bandwidth sets
    Vlm {
        /// A page (or region) image
        image: PathBuf,
        #[arg(long, value_enum, default_value_t = crate::bench_vlm::BenchModel::Qwen3Vl)]
        model: crate::bench_vlm::BenchModel,
        /// The page's pixel budget (256 image tokens by default; Qwen3-VL allows far more)
        #[arg(long, default_value_t = 262_144)]
        max_pixels: usize,
        /// Tokens to generate
        #[arg(long, default_value_t = 16)]
        tokens: usize,
        /// Weights in bf16 instead of f32
        #[arg(long, conflicts_with = "q8")]
        bf16: bool,
        /// The language model's weights in 8 bits (PyTorch: dynamic int8 quantisation)
        #[arg(long)]
        q8: bool,
        /// Do not run the PyTorch reference
        #[arg(long)]
        no_reference: bool,
    },
    /// Layout speed: the geometric analyzer (pages/s) and the detector (ms/page, beside
    /// onnxruntime on the same model and image)
    Layout {
        /// PDF files or folders for the geometric analyzer
        paths: Vec<PathBuf>,
        /// A page image for the detector
        #[arg(long)]
        image: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
}

pub fn run(json: bool, cmd: BenchCommand) -> Result<ExitCode> {
    let (paths, synthetic, repeat) = match cmd {
        BenchCommand::Ingest { paths, synthetic, repeat } => (paths, synthetic, repeat),
        BenchCommand::Layout { paths, image, repeat } => return crate::bench_layout::run(json, &paths, image, repeat),
        BenchCommand::Ocr { paths, limit } => return crate::bench_ocr::run(json, &paths, limit),
        BenchCommand::Ask { paths, repeat } => return crate::bench_ask::run(json, &paths, repeat),
        BenchCommand::Vlm { image, model, max_pixels, tokens, bf16, q8, no_reference } => {
            use pagewise_engine::vlm::Precision;
            let precision = if q8 {
                Precision::Q8
            } else if bf16 {
                Precision::Bf16
            } else {
                Precision::F32
            };
            let bench = crate::bench_vlm::VlmBench {
                model,
                image,
                max_pixels,
                tokens: tokens.max(2),
                precision,
                skip_reference: no_reference,
            };
            return crate::bench_vlm::run(json, &bench);
        }
    };
    let scratch =
        tempfile::tempdir().map_err(|e| pagewise_engine::Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut files: Vec<PathBuf> = collect_files(&paths)
        .into_iter()
        .filter(|p| std::fs::read(p).ok().and_then(|b| source::sniff(&b)) == Some(FileKind::Pdf))
        .collect();
    let mut memory = Vec::new();
    for &n in &synthetic {
        let path = scratch.path().join(format!("article-{n}.pdf"));
        std::fs::write(&path, pagewise_testkit::article(n, n))
            .map_err(|e| pagewise_engine::Error::Io { path: path.clone(), source: e })?;
        // Reset the kernel's peak-RSS mark so the peak read afterwards is this ingest's own.
        let resident_before = reset_peak_rss();
        let (pages, secs) = ingest(scratch.path(), &[path.clone()], &format!("mem-{n}"))?;
        memory.push(json!({"pages": pages, "seconds": secs, "rss_mib_before": resident_before / 1024, "peak_rss_mib": peak_rss_kib() / 1024}));
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
                "  synthetic {} pages: ingested in {:.2} s, peak RSS during the ingest {} MiB (resident before: {} MiB)",
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
    let outcomes = pipeline::add_files(
        &mut lib,
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

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Peak resident memory of this process since start or the last reset (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

/// Reset VmHWM to the current resident size (Linux: write 5 to clear_refs); returns that size.
pub fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    proc_status_kib("VmRSS:")
}

/// Run a reference script of scripts/ with the Python of a venv of the checkout
/// (`.venv-reference`: onnxruntime and friends, made by `bash scripts/dev.sh reference`;
/// `.venv-torch`: PyTorch and transformers, `bash scripts/dev.sh vlm-reference`), or
/// $PAGEWISE_REFERENCE_PYTHON; its stdout's last line is JSON.
pub fn run_reference(
    venv: &str,
    script: &str,
    args: &[std::ffi::OsString],
) -> std::result::Result<serde_json::Value, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("PAGEWISE_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(venv).join("bin/python"));
    if !python.exists() {
        let setup = if venv == ".venv-torch" { "vlm-reference" } else { "reference" };
        return Err(format!("no reference Python at {}; run `bash scripts/dev.sh {setup}`", python.display()));
    }
    let out = std::process::Command::new(&python)
        .arg(root.join(script))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .map_err(|e| format!("unexpected output from {script}: {e}"))
}
