//! Many processes on one library at once, as the desktop app and a CLI batch run side by side:
//! importers and searchers started together on a fresh library all succeed (creating and
//! migrating the library is serialised), and every document is there once.

mod common;

use std::process::{Child, Command, Stdio};

use pagewise_testkit::{pdfium_available, PdfBuilder, PdfPage};

const IMPORTERS: usize = 6;
const SEARCHERS: usize = 3;
/// Fresh libraries tried: a race shows on some starts and not others.
const ROUNDS: usize = 10;

fn pagewise(library: &std::path::Path, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("pagewise"))
        .arg("--library")
        .arg(library)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn importers_and_searchers_started_together_on_a_fresh_library_all_succeed() {
    if !pdfium_available("importers_and_searchers_started_together") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..IMPORTERS)
        .map(|i| {
            let pdf = PdfBuilder::new()
                .page(PdfPage::a4().text(72.0, 720.0, 12.0, &format!("Invoice number {i} total")))
                .build();
            let path = scratch.path().join(format!("doc{i}.pdf"));
            std::fs::write(&path, pdf).unwrap();
            path
        })
        .collect();
    for round in 0..ROUNDS {
        let library = scratch.path().join(format!("library-{round}"));
        let mut children: Vec<(String, Child)> = Vec::new();
        for f in &files {
            children.push((format!("add {}", f.display()), pagewise(&library, &["add", f.to_str().unwrap()])));
        }
        for _ in 0..SEARCHERS {
            children.push(("search".into(), pagewise(&library, &["search", "invoice"])));
        }
        for (what, child) in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: `pagewise {what}` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = pagewise(&library, &["--json", "list"]).wait_with_output().unwrap();
        let docs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(docs.as_array().unwrap().len(), IMPORTERS, "round {round}: every document once");
    }
}
