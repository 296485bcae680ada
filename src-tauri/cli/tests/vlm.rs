//! End-to-end: the model manager and `ask --engine vlm` through the CLI. A page that needs an
//! absent model says which command installs it; the tiny Qwen3-VL checkpoint of the parity test
//! (random weights, a real architecture) is imported offline as the visual answerer, verified,
//! asked about a generated invoice (its answer goes through the honesty checks: words not on the
//! page mean not found), and removed. The same for `text --reader vlm` with the tiny
//! PaddleOCR-VL checkpoint: regions read, words checked against the text layer, the reading saved.

mod common;

use common::Lib;
use pagewise_testkit::{pdfium_available, PdfBuilder, PdfPage};
use serde_json::Value;

fn invoice() -> Vec<u8> {
    PdfBuilder::new()
        .page(
            PdfPage::a4()
                .bold(50.0, 70.0, 20.0, "Harbour Trading Ltd")
                .text(380.0, 100.0, 10.0, "Invoice No: HT-7781")
                .text(380.0, 300.0, 10.0, "Total amount")
                .text(480.0, 300.0, 10.0, "$1,296.00"),
        )
        .build()
}

fn tiny_model(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vlm").join(name)
}

/// A library with the invoice in its folder and an empty model store, or None (with a message)
/// without pdfium.
struct Setup {
    lib: Lib,
    models: std::path::PathBuf,
    doc: String,
}

impl Setup {
    fn new(test: &str) -> Option<Setup> {
        if !pdfium_available(test) {
            return None;
        }
        let lib = Lib::new();
        let models = lib.dir.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        let doc = lib.file("invoice.pdf", &invoice()).to_str().unwrap().to_string();
        Some(Setup { lib, models, doc })
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.lib.cmd().env("PAGEWISE_MODELS", &self.models).args(args).output().unwrap()
    }
}

#[test]
fn vlm_answers_need_the_model_and_are_checked_against_the_page() {
    let Some(t) = Setup::new("vlm_answers_need_the_model_and_are_checked_against_the_page") else { return };
    let (models, doc) = (&t.models, t.doc.as_str());
    let run = |args: &[&str]| t.run(args);

    // No model: a clear message with the exact command.
    let out = run(&["ask", doc, "What is the total?", "--engine", "vlm"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("pagewise models get qwen3-vl-2b-instruct"), "{err}");

    // Offline import of a model folder, then verify.
    let out = run(&["models", "import", tiny_model("qwen3-vl-tiny").to_str().unwrap(), "--as", "qwen3-vl-2b-instruct"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["models", "verify", "qwen3-vl-2b-instruct"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("model.safetensors\tok"));
    let listed: Value = serde_json::from_slice(&run(&["--json", "models", "list"]).stdout).unwrap();
    let entry = listed.as_array().unwrap().iter().find(|m| m["name"] == "qwen3-vl-2b-instruct").unwrap();
    assert_eq!(entry["installed"], true);

    let out = run(&["--json", "ask", doc, "What is the total?", "--engine", "vlm", "--max-pixels", "200000"]);
    let answer: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let checks = &answer["checks"];
    assert_eq!(checks["model"], "qwen3-vl-2b-instruct");
    assert!(checks["tokens"].as_u64().unwrap() > 0 && checks["prefill_ms"].as_f64().unwrap() > 0.0, "{answer}");
    // Random weights say random things: whatever is not on the page must not count as found.
    let flagged = !checks["not_on_page"].as_array().unwrap().is_empty();
    assert!(!flagged || answer["found"] == false, "{answer}");
    if answer["found"] == false {
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(out.status.code(), Some(3));
    }

    // Per-field extraction by the model: every value it keeps is on the page with its evidence;
    // the extractive engine's values are not mistaken for the model's (nor the other way round).
    let out = run(&["--json", "extract", doc, "--schema", "invoice", "--engine", "vlm"]);
    let fields: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let values = fields["documents"][0]["fields"].as_array().unwrap();
    assert!(!values.is_empty(), "{fields}");
    for v in values.iter().filter(|v| !v["value"].is_null()) {
        assert!(
            v["evidence"].as_array().is_some_and(|e| !e.is_empty() && e.iter().all(|e| e["source"] == "vlm")),
            "{v}"
        );
    }
    let out = run(&["--json", "extract", doc, "--schema", "invoice"]);
    let fields: Value = serde_json::from_slice(&out.stdout).unwrap();
    let total =
        fields["documents"][0]["fields"].as_array().unwrap().iter().find(|v| v["field"] == "total").unwrap().clone();
    assert!(total["value"].as_str().is_some_and(|t| t.contains("1,296.00") || t.contains("1296")), "{total}");
    assert!(total["evidence"].as_array().unwrap().iter().all(|e| e["source"] != "vlm"), "{total}");

    // A 5,000-character question is refused before the model runs.
    let long = "why ".repeat(1250);
    let out = run(&["ask", doc, &long, "--engine", "vlm"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 1000"));

    // A corrupt weight file is found by verify and refused by the loader.
    let weights = models.join("hub/qwen3-vl-2b-instruct/model.safetensors");
    std::fs::write(&weights, b"not safetensors").unwrap();
    let out = run(&["models", "verify", "qwen3-vl-2b-instruct"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["ask", doc, "What is the total?", "--engine", "vlm"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("qwen3-vl-2b-instruct"));

    assert!(run(&["models", "rm", "qwen3-vl-2b-instruct"]).status.success());
    assert!(!models.join("hub/qwen3-vl-2b-instruct").exists());
}

#[test]
fn vlm_reader_reads_regions_and_checks_its_words_against_the_page() {
    let Some(t) = Setup::new("vlm_reader_reads_regions_and_checks_its_words_against_the_page") else { return };
    let doc = t.doc.as_str();
    let run = |args: &[&str]| t.run(args);
    assert!(run(&["add", doc]).status.success());

    let out = run(&["text", doc, "--reader", "vlm"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("pagewise models get paddleocr-vl"), "{err}");

    let out = run(&["models", "import", tiny_model("paddleocr-vl-tiny").to_str().unwrap(), "--as", "paddleocr-vl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--json", "text", doc, "--reader", "vlm", "--page", "1", "--save"]);
    let read: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let page = &read["pages"][0];
    assert_eq!(page["source"], "vlm");
    assert_eq!(page["checked_against"], "text-layer");
    let regions = page["regions"].as_array().unwrap();
    assert!(!regions.is_empty(), "{page}");
    let words: usize = regions.iter().map(|r| r["words"].as_array().unwrap().len()).sum();
    assert_eq!(words as u64, page["words"].as_u64().unwrap());
    for r in regions {
        assert!(r["error"].is_null(), "{r}");
        assert!(r["tokens"].as_u64().unwrap() > 0, "{r}");
        // Random weights write random words: those whose letters are not on the page are listed.
        let confirmed_or_flagged =
            r["not_on_page"].as_array().unwrap().len() + page["confirmed_words"].as_u64().unwrap() as usize;
        assert!(r["words"].as_array().unwrap().is_empty() || confirmed_or_flagged > 0, "{r}");
    }
    // Saved: the page's words are now the model's, and say so.
    let shown: Value = serde_json::from_slice(&run(&["--json", "show", doc]).stdout).unwrap();
    assert_eq!(shown["pages"][0]["source"], "vlm", "{shown}");
    // With the language model in 8 bits the page is read the same way.
    let out = run(&["--json", "text", doc, "--reader", "vlm", "--page", "1", "--dtype", "q8"]);
    let read: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let regions = read["pages"][0]["regions"].as_array().unwrap();
    assert!(
        !regions.is_empty() && regions.iter().all(|r| r["error"].is_null() && r["tokens"].as_u64().unwrap() > 0),
        "{read}"
    );
}
