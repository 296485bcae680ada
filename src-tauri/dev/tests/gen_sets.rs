//! `pagewise-dev gen-invoices`: the made-up invoices are a set `eval` and `fit-ranker` read (PDFs
//! and fields.json), the same seed writes the same files, and what the ground truth says the
//! invoices print is found there by the product's own extraction, in every language.
//! `pagewise-dev gen-statements`: made-up report pages whose revenue questions `eval` asks.

use assert_cmd::Command;
use pagewise_testkit::pdfium_available;
use serde_json::Value;

fn gen(what: &str, out: &std::path::Path, count: &str, seed: &str) {
    let status = Command::cargo_bin("pagewise-dev")
        .unwrap()
        .args([what])
        .arg(out)
        .args(["--count", count, "--seed", seed])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
}

#[test]
fn made_up_invoices_are_an_evaluation_set_the_extraction_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    gen("gen-invoices", &a, "24", "5");
    gen("gen-invoices", &b, "24", "5");
    let truth: Value = serde_json::from_slice(&std::fs::read(a.join("fields.json")).unwrap()).unwrap();
    let records = truth.as_object().unwrap();
    assert_eq!(records.len(), 24);
    let languages: std::collections::BTreeSet<&str> =
        records.values().map(|r| r["language"].as_str().unwrap()).collect();
    assert!(languages.len() >= 5, "{languages:?}");
    for file in records.keys() {
        let bytes = std::fs::read(a.join("docs").join(file)).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{file}");
        assert_eq!(bytes, std::fs::read(b.join("docs").join(file)).unwrap(), "{file}: same seed, same file");
    }

    if !pdfium_available("made_up_invoices_are_an_evaluation_set_the_extraction_reads") {
        return;
    }
    let fields = eval_report(&a, "fields");
    // Far below what it scores (docs/quality.md): a floor that catches a broken generator or reader.
    assert!(fields["f1"].as_f64().unwrap() >= 0.8, "{fields}");
}

#[test]
fn made_up_statements_are_a_question_set_the_answerer_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    gen("gen-statements", &a, "20", "3");
    gen("gen-statements", &b, "20", "3");
    let qa: Value = serde_json::from_slice(&std::fs::read(a.join("qa.json")).unwrap()).unwrap();
    let questions = qa.as_array().unwrap();
    assert!(questions.len() >= 40, "two periods or more a page");
    for q in questions {
        let file = q["file"].as_str().unwrap();
        assert!(q["answers"][0].is_number() && q["unit"].is_string(), "{q}");
        let bytes = std::fs::read(a.join("docs").join(file)).unwrap();
        assert_eq!(bytes, std::fs::read(b.join("docs").join(file)).unwrap(), "{file}: same seed, same file");
    }

    if !pdfium_available("made_up_statements_are_a_question_set_the_answerer_reads") {
        return;
    }
    let report = eval_report(&a, "qa");
    // Far below what it scores (docs/quality.md): a floor that catches a broken generator or reader.
    let exact = report["exact"].as_f64().unwrap() / report["asked"].as_f64().unwrap();
    assert!(exact >= 0.8, "{report}");
}

/// The report of `kind` that `pagewise-dev --json eval` gives for the set in `dir`.
fn eval_report(dir: &std::path::Path, kind: &str) -> Value {
    let out = Command::cargo_bin("pagewise-dev").unwrap().args(["--json", "eval"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    reports.as_array().unwrap().iter().find(|r| r["kind"] == kind).unwrap_or_else(|| panic!("a {kind} report")).clone()
}
