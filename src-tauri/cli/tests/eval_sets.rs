//! Acceptance over ../shared/eval's robustness and reading sets (real third-party PDFs): every
//! file imports as its expected.json says, or fails with the right clear error; never a panic.
//! Skips with a visible message where the sets are absent.

mod common;

use common::Lib;
use pagewise_testkit::eval_root;
use serde_json::Value;

#[test]
fn robustness_and_reading_sets_import_as_expected() {
    let Some(root) = eval_root("robustness_and_reading_sets_import_as_expected") else { return };
    let mut checked = 0;
    let mut problems = Vec::new();
    for set in ["robustness-pypdf-resources", "robustness-pypdf-sample-files", "reading-realworld-pdfplumber"] {
        let dir = root.join(set);
        let Ok(raw) = std::fs::read_to_string(dir.join("expected.json")) else { continue };
        let expected: serde_json::Map<String, Value> = serde_json::from_str(&raw).unwrap();
        let lib = Lib::new();
        for (name, exp) in &expected {
            let path = dir.join("files").join(name);
            if !path.is_file() {
                continue;
            }
            let p = path.to_str().unwrap();
            let want = exp["expect"].as_str().unwrap_or("open");
            let pages = exp["pages"].as_u64().or(exp["pages_computed"].as_u64());
            let (code, lines) = lib.add(&[p]);
            let got = &lines[0];
            let ok = match want {
                "open" | "recover" => code == 0 && got["status"] == "added" && pages.is_none_or(|n| got["pages"] == n),
                "needs_user_password" => {
                    let refused = code == 1 && got["error"]["kind"] == "password_required";
                    let password = exp["user_password"].as_str().unwrap_or("");
                    let (code2, again) = lib.add(&[p, "--password", password]);
                    refused && code2 == 0 && again[0]["status"] == "added"
                }
                "error" => {
                    code == 1
                        && got["error"]["message"]
                            .as_str()
                            .is_some_and(|m| m.contains(name.rsplit('/').next().unwrap()))
                }
                other => panic!("unknown expectation {other}"),
            };
            if !ok {
                problems.push(format!("{set}/{name}: expected {want} ({pages:?} pages), got {got}"));
            }
            checked += 1;
        }
        // Every added document reads: text comes back for each page, or the page says why not.
        for doc in lib.json(&["list"]).as_array().unwrap() {
            let text = lib.json(&["text", doc["id"].as_str().unwrap()]);
            assert_eq!(text["pages"].as_array().unwrap().len() as u64, doc["pages"].as_u64().unwrap());
        }
    }
    eprintln!("eval sets: {checked} files checked");
    assert!(checked > 0, "the eval sets had no files");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn reading_reference_text_is_recovered() {
    let Some(root) = eval_root("reading_reference_text_is_recovered") else { return };
    // crazyones.pdf's text is given verbatim by pypdf's resources; the PDF/A copy carries it.
    let reference = root.join("robustness-pypdf-resources/reference/crazyones.txt");
    let pdf = root.join("robustness-pypdf-sample-files/files/021-pdfa/crazyones-pdfa.pdf");
    let (Ok(reference), true) = (std::fs::read_to_string(&reference), pdf.is_file()) else {
        eprintln!("SKIP reading_reference_text_is_recovered: reference files absent");
        return;
    };
    let lib = Lib::new();
    let text = lib.json(&["text", pdf.to_str().unwrap()]);
    let got: Vec<String> =
        text["pages"][0]["text"].as_str().unwrap().split_whitespace().map(str::to_lowercase).collect();
    let want: Vec<String> = reference.split_whitespace().map(str::to_lowercase).collect();
    let common = want.iter().filter(|w| got.contains(w)).count();
    assert!(common as f64 >= 0.95 * want.len() as f64, "{common} of {} reference words found", want.len());
}
