//! `pagewise-dev bench ocr`: seconds per page image in text detection, line orientation and
//! recognition for the OCR reader on candle, beside RapidOCR on onnxruntime running the same
//! models on the same images in the same run; peak memory of each.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pagewise_engine::collect_files;
use pagewise_engine::read::ocr::reader::{Reader, Timings};
use pagewise_engine::{source, Error, FileKind, Result};
use serde_json::{json, Value};

use super::measure::{peak_rss_kib, reset_peak_rss, run_reference};

pub fn run(json: bool, paths: &[PathBuf], limit: usize) -> Result<ExitCode> {
    let mut images: Vec<(PathBuf, FileKind)> = collect_files(paths)
        .into_iter()
        .filter_map(|p| {
            let kind = std::fs::read(&p).ok().and_then(|b| source::sniff(&b))?;
            (kind != FileKind::Pdf).then_some((p, kind))
        })
        .collect();
    images.truncate(limit);
    if images.is_empty() {
        eprintln!("no page images (PNG, JPEG, TIFF, WebP) among the paths given");
        return Ok(ExitCode::from(2));
    }
    let resident_before = reset_peak_rss();
    let start = Instant::now();
    let reader = Reader::get()?;
    let load = start.elapsed();
    let decode = |(path, kind): &(PathBuf, FileKind)| -> Result<image::RgbImage> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        Ok(source::decode_image_page(path, &bytes, *kind, 0)?.to_rgb8())
    };
    reader.read_upright(&decode(&images[0])?)?; // warm-up
    let (mut total, mut wall, mut lines) = (Timings::default(), Duration::ZERO, 0);
    for image in &images {
        let img = decode(image)?;
        let start = Instant::now();
        let reading = reader.read_upright(&img)?;
        wall += start.elapsed();
        total += reading.timings;
        lines += reading.lines.len();
    }
    let n = images.len() as f64;
    let per = |d: Duration| d.as_secs_f64() / n;
    let ours = json!({
        "det": per(total.det), "cls": per(total.cls), "rec": per(total.rec), "total": per(wall), "lines": lines,
        "model_load_seconds": load.as_secs_f64(), "peak_rss_mib": peak_rss_kib() / 1024,
        "rss_mib_before": resident_before / 1024,
        "threads": rayon::current_num_threads(),
    });
    let files: Vec<std::ffi::OsString> = images.iter().map(|(p, _)| p.clone().into_os_string()).collect();
    let reference =
        match run_reference(".venv-reference", "scripts/ocr_reference.py", &[&["--bench".into()], &files[..]].concat())
        {
            Ok(v) => summarise_reference(&v, n),
            Err(e) => json!({"error": e}),
        };
    let report = json!({"images": images.len(), "pagewise": ours, "onnxruntime": reference});
    if json {
        println!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("OCR on {} page images (seconds per image, after one warm-up image)", images.len());
    println!("  {:<28} {:>7} {:>7} {:>7} {:>7} {:>9} {:>10}", "", "det", "cls", "rec", "total", "lines", "peak MiB");
    let row = |name: &str, v: &Value| {
        let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "  {name:<28} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>9} {:>10}",
            f("det"),
            f("cls"),
            f("rec"),
            f("total"),
            v["lines"],
            v["peak_rss_mib"]
        );
    };
    row("pagewise (candle)", &report["pagewise"]);
    match report["onnxruntime"].get("error") {
        None => {
            row("rapidocr (onnxruntime)", &report["onnxruntime"]);
            let ratio = |k: &str| {
                report["pagewise"][k].as_f64().unwrap_or(f64::NAN)
                    / report["onnxruntime"][k].as_f64().unwrap_or(f64::NAN)
            };
            println!(
                "  candle / onnxruntime: det {:.2}, rec {:.2}, total {:.2}",
                ratio("det"),
                ratio("rec"),
                ratio("total")
            );
            println!(
                "  (rapidocr runs the orientation classifier on every line; \
                 pagewise on up to 9 lines to vote on the page's orientation)"
            );
        }
        Some(e) => println!("  onnxruntime: not measured ({})", e.as_str().unwrap_or_default()),
    }
    println!("  models loaded in {:.2} s", load.as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn summarise_reference(v: &Value, n: f64) -> Value {
    let rows = v["images"].as_array().cloned().unwrap_or_default();
    let mean = |k: &str| rows.iter().filter_map(|r| r[k].as_f64()).sum::<f64>() / n;
    let lines: u64 = rows.iter().filter_map(|r| r["lines"].as_u64()).sum();
    json!({
        "det": mean("det"), "cls": mean("cls"), "rec": mean("rec"), "total": mean("total"), "lines": lines,
        "peak_rss_mib": v["peak_rss_kib"].as_u64().unwrap_or(0) / 1024, "runtime": v["runtime"],
    })
}
