//! Shared helpers for the CLI end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

pub struct Lib {
    pub dir: tempfile::TempDir,
}

impl Lib {
    pub fn new() -> Self {
        Lib { dir: tempfile::tempdir().unwrap() }
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("pagewise").unwrap();
        c.arg("--library").arg(self.dir.path().join("library"));
        // Never the developer's own keyring: passwords last the run (tests/privacy.rs tests a real one).
        c.env("PAGEWISE_KEYRING", "none");
        c
    }
    /// Write a file into the scratch area and return its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    /// `add --json` and the parsed per-file lines.
    pub fn add(&self, args: &[&str]) -> (i32, Vec<Value>) {
        let out = self.cmd().arg("--json").arg("add").args(args).output().unwrap();
        let lines = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (out.status.code().unwrap_or(-1), lines)
    }
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        assert!(out.status.success(), "pagewise {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Find a word by its text in `text --json` output: (page object, word object).
pub fn word<'a>(text: &'a Value, page: u64, w: &str) -> &'a Value {
    let p = text["pages"].as_array().unwrap().iter().find(|p| p["page"] == page).expect("page");
    p["words"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["text"] == w)
        .unwrap_or_else(|| panic!("word {w} not on page {page}"))
}

pub fn bbox(word: &Value) -> [f64; 4] {
    let b = word["bbox"].as_array().unwrap();
    [b[0].as_f64().unwrap(), b[1].as_f64().unwrap(), b[2].as_f64().unwrap(), b[3].as_f64().unwrap()]
}
