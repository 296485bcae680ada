//! Files are opened in worker processes: a worker that crashes (as a segfault in pdfium would),
//! hangs, or runs out of memory costs its one file. The batch goes on, that file is reported
//! failed with the reason, the library keeps nothing of it, and it imports once the worker
//! behaves. The misbehaviour is the workers' test hook (engine worker/bounds.rs): a file holding
//! the marker bytes makes the worker crash, hang or eat memory.

mod common;

use common::Lib;
use pagewise_testkit::{article, pdfium_available};
use serde_json::Value;

const MARKER: &str = "PAGEWISE-WORKER-TEST-MARKER";

/// A PDF that holds the marker (in a comment after its end, which readers ignore).
fn marked_pdf() -> Vec<u8> {
    let mut pdf = article(3, 7);
    pdf.extend_from_slice(format!("\n%{MARKER}\n").as_bytes());
    pdf
}

/// A PNG that holds the marker (after its last chunk, which decoders ignore).
fn marked_png() -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([250, 250, 250]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png.extend_from_slice(MARKER.as_bytes());
    png
}

/// `add` of a batch with the hook set (and extra environment); the per-file JSON lines.
fn add_with_hook(lib: &Lib, hook: &str, env: &[(&str, &str)], files: &[&std::path::Path]) -> (i32, Vec<Value>) {
    let mut cmd = lib.cmd();
    cmd.env("PAGEWISE_WORKER_TEST_HOOK", format!("{hook}:{MARKER}")).arg("--json").arg("add").arg("--no-ocr");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(files).output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    (out.status.code().unwrap_or(-1), lines)
}

fn status_of<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no line for {name} in {lines:?}"))
}

/// The batch around a misbehaving file: the file before and the file after it are imported,
/// the bad one fails with `kind` and a message containing `says`, and nothing of it is kept.
fn batch_survives(hook: &str, env: &[(&str, &str)], kind: &str, says: &str) {
    let lib = Lib::new();
    let before = lib.file("before.pdf", &article(2, 1));
    let bad_pdf = lib.file("bad.pdf", &marked_pdf());
    let bad_png = lib.file("bad.png", &marked_png());
    let after = lib.file("after.pdf", &article(2, 2));
    let (code, lines) = add_with_hook(&lib, hook, env, &[&before, &bad_pdf, &bad_png, &after]);
    assert_eq!(code, 1, "a batch with failed files exits 1: {lines:?}");
    for good in ["before.pdf", "after.pdf"] {
        assert_eq!(status_of(&lines, good)["status"], "added", "{hook}: {good}");
    }
    for bad in ["bad.pdf", "bad.png"] {
        let line = status_of(&lines, bad);
        assert_eq!(line["status"], "failed", "{hook}: {bad}");
        assert_eq!(line["error"]["kind"], kind, "{hook}: {bad}: {line}");
        let message = line["error"]["message"].as_str().unwrap();
        assert!(message.contains(says) && message.contains(bad), "{hook}: {bad}: {message}");
    }
    let docs = lib.json(&["list"]);
    assert_eq!(docs.as_array().unwrap().len(), 2, "only the good files are in the library: {docs}");
    let originals = std::fs::read_dir(lib.dir.path().join("library/originals")).unwrap().count();
    assert_eq!(originals, 2, "no original is kept for a file that failed");
    // Without the hook, the same files import: nothing of the failed attempt was in the way.
    let (code, lines) = lib.add(&["--no-ocr", bad_pdf.to_str().unwrap(), bad_png.to_str().unwrap()]);
    assert_eq!(code, 0, "{lines:?}");
    assert!(lines.iter().all(|l| l["status"] == "added"), "{lines:?}");
}

#[test]
fn a_crashing_worker_costs_only_its_file() {
    if pdfium_available("a_crashing_worker_costs_only_its_file") {
        batch_survives("crash", &[], "reader_crashed", "segmentation fault");
    }
}

#[test]
fn a_hanging_worker_is_stopped_at_the_time_limit() {
    if pdfium_available("a_hanging_worker_is_stopped_at_the_time_limit") {
        batch_survives("hang", &[("PAGEWISE_WORKER_SECONDS", "2")], "reader_timed_out", "longer than 2 s");
    }
}

#[test]
fn a_worker_that_eats_memory_stops_at_its_bound() {
    if pdfium_available("a_worker_that_eats_memory_stops_at_its_bound") {
        batch_survives("hog", &[("PAGEWISE_WORKER_MEMORY_MB", "768")], "reader_crashed", "memory bound of 768 MiB");
    }
}

#[test]
fn viewing_a_page_whose_worker_crashes_is_an_error_not_a_crash() {
    if !pdfium_available("viewing_a_page_whose_worker_crashes") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("marked.pdf", &marked_pdf());
    let (code, lines) = lib.add(&["--no-ocr", pdf.to_str().unwrap()]);
    assert_eq!(code, 0);
    let id = lines[0]["doc_id"].as_str().unwrap().to_string();
    let png = lib.dir.path().join("page.png");
    let out = lib
        .cmd()
        .env("PAGEWISE_WORKER_TEST_HOOK", format!("crash:{MARKER}"))
        .args(["render", &id, "--page", "1", "--output"])
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("segmentation fault"), "{stderr}");
    assert!(!png.exists(), "nothing written");
    // The library is fine and the page draws once the worker behaves.
    let out = lib.cmd().args(["render", &id, "--page", "1", "--output"]).arg(&png).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(png.is_file());
}
