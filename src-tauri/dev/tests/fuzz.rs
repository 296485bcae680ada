//! `pagewise-dev fuzz`: the harness finds and saves what breaks a target (a panic, and a crash
//! that kills the process, through the test-only targets), replays a saved input to the same
//! failure, and every target runs a short campaign clean. The regression fixtures of past
//! findings (tests/fixtures/fuzz/<target>/) replay without a failure.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fuzz(args: &[&str], out: &Path) -> (bool, Vec<Value>) {
    let output = Command::cargo_bin("pagewise-dev")
        .unwrap()
        .args(["--json", "fuzz"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines = stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    (output.status.success(), lines)
}

fn findings(report: &Value) -> Vec<PathBuf> {
    report["findings"].as_array().unwrap().iter().map(|f| PathBuf::from(f.as_str().unwrap())).collect()
}

fn contains_boom(path: &Path) -> bool {
    std::fs::read(path).unwrap().windows(4).any(|w| w == b"boom")
}

#[test]
fn a_panicking_input_is_found_saved_and_replays_to_the_same_panic() {
    let out = tempfile::tempdir().unwrap();
    let (ok, reports) = fuzz(&["selftest-panic", "--seed", "3", "--execs", "20000"], out.path());
    assert!(!ok, "a campaign with findings exits with an error: {reports:?}");
    let report = &reports[0];
    assert_eq!(report["execs"], 20000, "{report}");
    assert_eq!(report["restarts"], 0, "a panic is caught in the process: {report}");
    let found = findings(report);
    // One panic site: a few examples of it are kept, not every input that reached it.
    assert!((1..=3).contains(&found.len()), "{report}");
    assert!(found.iter().all(|f| contains_boom(f)), "{report}");
    let note = std::fs::read_to_string(found[0].with_extension("txt")).unwrap();
    assert!(note.contains("selftest: boom"), "{note}");
    let (ok, lines) = fuzz(&["selftest-panic", "--replay", found[0].to_str().unwrap()], out.path());
    assert!(!ok && lines[0]["failure"].as_str().unwrap().contains("selftest: boom"), "{lines:?}");
}

#[test]
fn a_crash_that_kills_the_process_is_saved_and_the_campaign_goes_on() {
    let out = tempfile::tempdir().unwrap();
    let (ok, reports) = fuzz(&["selftest-abort", "--seed", "5", "--execs", "20000"], out.path());
    assert!(!ok);
    let report = &reports[0];
    // Every crash restarts the fuzzing process, which goes on with the rest of the budget.
    assert!(report["restarts"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["execs"].as_u64().unwrap() >= 20000 || report["restarts"] == 50, "{report}");
    let found = findings(report);
    assert!(!found.is_empty() && found.iter().all(|f| contains_boom(f)), "{report}");
    let note = std::fs::read_to_string(found[0].with_extension("txt")).unwrap();
    assert!(note.contains("signal 6"), "an abort is SIGABRT: {note}");
    let (ok, lines) = fuzz(&["selftest-abort", "--replay", found[0].to_str().unwrap()], out.path());
    assert!(!ok && lines[0]["failure"].as_str().unwrap().contains("signal 6"), "{lines:?}");
}

#[test]
fn the_same_seed_runs_the_same_campaign() {
    let out = tempfile::tempdir().unwrap();
    let corpus = |seed: &str| {
        let (ok, reports) = fuzz(&["schema", "--seed", seed, "--execs", "300"], out.path());
        assert!(ok, "{reports:?}");
        let mut names: Vec<_> =
            std::fs::read_dir(out.path().join("schema/corpus")).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        names
    };
    assert_eq!(corpus("9"), corpus("9"));
}

/// Each product target, briefly: no finding, and the corpus grew past its seeds.
#[test]
fn every_target_runs_a_short_campaign_clean() {
    let out = tempfile::tempdir().unwrap();
    for target in ["image", "pdf", "schema", "manifest", "onnx", "archive"] {
        if target == "pdf" && !pagewise_testkit::pdfium_available("fuzz pdf") {
            continue;
        }
        let (ok, reports) = fuzz(&[target, "--seed", "1", "--execs", "300"], out.path());
        assert!(ok, "{target}: {reports:?}");
        assert_eq!(reports[0]["execs"], 300, "{target}: {reports:?}");
        assert!(reports[0]["corpus"].as_u64().unwrap() > 0, "{target}: {reports:?}");
    }
}

/// Inputs that once failed (tests/fixtures/fuzz/<target>/) run clean now.
#[test]
fn past_findings_replay_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fuzz");
    let out = tempfile::tempdir().unwrap();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().unwrap().to_str().unwrap().to_string();
        if target == "pdf" && !pagewise_testkit::pdfium_available("fuzz regressions (pdf)") {
            continue;
        }
        let (ok, lines) = fuzz(&[&target, "--replay", dir.to_str().unwrap()], out.path());
        assert!(ok, "{target}: {lines:?}");
        replayed += lines.len();
    }
    assert!(replayed > 0, "no fixtures under {}", root.display());
}
