//! `pagewise-dev eval` over ../shared/eval's layout, field and question sets: the reports have
//! their figures, and they stay above regression floors. Skips with a visible message where the
//! sets (or libpdfium) are absent.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use pagewise_testkit::eval_root;
use serde_json::Value;

/// `pagewise-dev --json eval SETS...`: the reports.
fn eval(sets: &[&Path]) -> Value {
    let out = Command::cargo_bin("pagewise-dev").unwrap().args(["--json", "eval"]).args(sets).output().unwrap();
    assert!(out.status.success(), "pagewise-dev eval {sets:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `pagewise-dev eval` on the layout sets: the report has its figures, and they stay above
/// regression floors set below the measured scores (see the README for the figures).
#[test]
fn layout_eval_reports_scores_above_the_floors() {
    let Some(root) = eval_root("layout_eval_reports_scores") else { return };
    let (docbank, publaynet) = (root.join("layout-docbank-samples"), root.join("layout-publaynet-examples"));
    if !docbank.is_dir() || !publaynet.is_dir() {
        eprintln!("SKIP layout_eval_reports_scores: the layout sets are absent");
        return;
    }
    let mut sets = vec![docbank.as_path()];
    let has_model = pagewise_engine::models::model_file("layout-cdla").is_ok();
    if has_model {
        sets.push(&publaynet);
    } else {
        eprintln!("SKIP layout_eval (PubLayNet part): the layout model is absent (run `bash scripts/dev.sh models`)");
    }
    let reports = eval(&sets);
    let d = &reports[0];
    assert_eq!(d["kind"], "docbank");
    assert!(d["macro_f1"].as_f64().unwrap() >= 0.75, "DocBank macro F1 fell: {d}");
    assert!(d["tau_mean"].as_f64().unwrap() >= 0.95, "reading order fell: {d}");
    assert_eq!(d["failed"], 0);
    if has_model {
        let p = &reports[1];
        assert_eq!(p["kind"], "publaynet");
        assert!(p["map50"].as_f64().unwrap() >= 0.65, "PubLayNet mAP@0.5 fell: {p}");
    }
}

/// `pagewise-dev eval` on the digital field sets: questions and extraction stay above floors set
/// below the figures in the README (so a regression shows, and noise does not).
#[test]
fn field_and_question_sets_score_above_the_floors() {
    let Some(root) = eval_root("field_and_question_sets_score_above_the_floors") else { return };
    let sets = [
        "fields-invoices-invoice2data",
        "fields-invoices-parsee",
        "fields-contracts-kleister-nda",
        "tables-revenues-parsee",
    ];
    let dirs: Vec<PathBuf> = sets.iter().map(|s| root.join(s)).filter(|d| d.is_dir()).collect();
    if dirs.len() < sets.len() {
        eprintln!("SKIP field_and_question_sets_score_above_the_floors: some field sets are absent");
        return;
    }
    let reports = eval(&dirs.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    let report = |set: &str, kind: &str| {
        reports
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["set"] == set && r["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} report for {set}"))
    };
    for set in ["fields-invoices-invoice2data", "fields-invoices-parsee", "tables-revenues-parsee"] {
        let qa = report(set, "qa");
        let exact = qa["exact"].as_f64().unwrap() / qa["asked"].as_f64().unwrap();
        assert!(exact >= 0.9, "{set}: {exact} of the questions answered exactly: {qa}");
    }
    let contracts = report("fields-contracts-kleister-nda", "fields");
    assert!(contracts["f1"].as_f64().unwrap() >= 0.7, "{contracts}");
    let invoices = report("fields-invoices-parsee", "fields");
    for f in invoices["fields"].as_array().unwrap() {
        assert!(f["accuracy"].as_f64().unwrap() >= 0.9, "{f}");
    }
}
