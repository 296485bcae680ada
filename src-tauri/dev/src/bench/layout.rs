//! `pagewise-dev bench layout`: pages per second of the geometric analyzer (all cores, and one
//! thread for scale), and milliseconds per page image of the detector on candle beside
//! onnxruntime running the same model on the same image, measured in the same run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use pagewise_engine::layout::analyze::{analyze_document, Pixels};
use pagewise_engine::layout::detector;
use pagewise_engine::{
    collect_files, source, AddOptions, AddStatus, Error, FileKind, LayoutMode, Library, Page, Result,
};
use serde_json::{json, Value};

use super::measure::run_reference;

pub fn run(json: bool, paths: &[PathBuf], image: Option<PathBuf>, repeat: u32) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let files: Vec<PathBuf> = collect_files(paths)
        .into_iter()
        .filter(|p| std::fs::read(p).ok().and_then(|b| source::sniff(&b)) == Some(FileKind::Pdf))
        .collect();
    let mut lib = Library::open(scratch.path())?;
    let mut pages: Vec<Vec<Page>> = Vec::new();
    for o in lib.add_files(
        &files,
        &AddOptions { skip_ocr: true, ..Default::default() },
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
    )? {
        if let (AddStatus::Added, Some(id)) = (o.status, o.doc_id) {
            pages.push(lib.pages(&id)?);
        }
    }
    let total: usize = pages.iter().map(|d| d.len()).sum();
    let no_image = |_: u32| -> Result<image::RgbImage> {
        Err(Error::Internal { path: PathBuf::new(), detail: "no rendering in this benchmark".into() })
    };
    let analyze_all = || {
        let start = Instant::now();
        let pixels = Pixels { image_of: &no_image, detector: &detector::installed };
        for doc in &pages {
            std::hint::black_box(analyze_document(doc, LayoutMode::Geometric, &pixels));
        }
        start.elapsed().as_secs_f64()
    };
    let best = |f: &dyn Fn() -> f64| (0..repeat.max(1)).map(|_| f()).fold(f64::INFINITY, f64::min);
    let all_cores = if total > 0 { best(&analyze_all) } else { f64::NAN };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map(|pool| pool.install(|| best(&analyze_all)))
        .unwrap_or(f64::NAN);
    let geometric = json!({
        "documents": pages.len(), "pages": total,
        "pages_per_second": total as f64 / all_cores, "pages_per_second_one_thread": total as f64 / one_thread,
        "threads": rayon::current_num_threads(),
    });

    let detector = match image {
        Some(img) => bench_detector(&img, repeat)?,
        None => json!({"skipped": "give --image PAGE.png (or .jpg) to time the detector"}),
    };
    let report = json!({"geometric": geometric, "detector": detector});
    if json {
        println!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("geometric analyzer: {} pages from {} PDFs (best of {repeat})", total, pages.len());
    println!(
        "  {:>8.1} pages/s on {} threads, {:>8.1} pages/s on one",
        geometric["pages_per_second"].as_f64().unwrap_or(0.0),
        geometric["threads"],
        geometric["pages_per_second_one_thread"].as_f64().unwrap_or(0.0)
    );
    match detector.get("candle_ms") {
        Some(ms) => {
            println!("detector ({}), input {}:", detector::MODEL, detector["input"].as_str().unwrap_or_default());
            println!(
                "  candle:      {:>7.1} ms per page (network), {:>7.1} ms end to end (resize, network, decoding)",
                ms.as_f64().unwrap_or(0.0),
                detector["candle_end_to_end_ms"].as_f64().unwrap_or(0.0)
            );
            match detector["onnxruntime_ms"].as_f64() {
                Some(ort) => println!(
                    "  onnxruntime: {ort:>7.1} ms per page (network)   candle / onnxruntime = {:.2}",
                    ms.as_f64().unwrap_or(0.0) / ort
                ),
                None => println!(
                    "  onnxruntime: not measured ({})",
                    detector["onnxruntime_error"].as_str().unwrap_or_default()
                ),
            }
        }
        None => println!(
            "detector: {}",
            detector.get("skipped").or(detector.get("error")).and_then(Value::as_str).unwrap_or_default()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_detector(path: &Path, repeat: u32) -> Result<Value> {
    let det = match detector::installed() {
        Ok(d) => d,
        Err(e) => return Ok(json!({"error": e.to_string()})),
    };
    let img = image::open(path)
        .map_err(|e| Error::Corrupt { path: path.into(), format: "image", detail: e.to_string() })?
        .to_rgb8();
    let runs = (repeat.max(1) * 3) as usize;
    let model_err =
        |e: pagewise_engine::nn::Error| Error::Model { model: detector::MODEL.into(), detail: e.to_string() };
    let input = det.preprocess(&img).map_err(model_err)?;
    det.forward(input.clone()).map_err(model_err)?; // warm-up
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(det.forward(input.clone()).map_err(model_err)?);
    }
    let network = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(det.detect(&img, detector::CONFIDENCE, detector::NMS_IOU).map_err(model_err)?);
    }
    let end_to_end = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let mut out = json!({
        "image": path, "input": format!("1x3x{}x{}", det.input_h, det.input_w),
        "candle_ms": network, "candle_end_to_end_ms": end_to_end, "runs": runs,
    });
    match onnxruntime_ms(path, runs) {
        Ok((ms, runtime)) => {
            out["onnxruntime_ms"] = json!(ms);
            out["onnxruntime"] = json!(runtime);
            out["ratio"] = json!(network / ms);
        }
        Err(e) => out["onnxruntime_error"] = json!(e),
    }
    Ok(out)
}

/// The reference: scripts/detector_reference.py --bench on the same image.
fn onnxruntime_ms(image: &Path, runs: usize) -> std::result::Result<(f64, String), String> {
    let v = run_reference(
        ".venv-reference",
        "scripts/detector_reference.py",
        &[image.into(), "--bench".into(), runs.to_string().into()],
    )?;
    Ok((v["ms_per_image"].as_f64().unwrap_or(f64::NAN), v["runtime"].as_str().unwrap_or_default().to_string()))
}
