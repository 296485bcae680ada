//! Shared helpers for the CLI end-to-end tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Output, Stdio};

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

/// A library after a kill or a failure: SQLite's integrity check passes and each document in
/// it is whole (all its pages, its original). Returns how many documents it holds.
pub fn check_whole(library: &Path, when: &str) -> usize {
    let db = rusqlite::Connection::open(library.join("library.sqlite3")).unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "{when}");
    let lib = pagewise_engine::Library::open(library).unwrap();
    let docs = lib.documents(0, u64::MAX).unwrap();
    for d in &docs {
        assert_eq!(lib.pages(&d.id).unwrap().len() as u32, d.pages, "{when}: {} is not whole", d.name);
        let original = library.join("originals").join(format!("{}.{}", d.id, d.kind.extension()));
        assert!(original.is_file(), "{when}: {} has no original", d.name);
    }
    docs.len()
}

/// `from` copied to `to`, folders and all (a library made once, used by many runs).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A private mount namespace (`unshare -m`) held open by a child shell, for a small tmpfs (a
/// disk that fills up) or a read-only bind mount: `pagewise` runs inside it through `nsenter`,
/// and the test reads what it left through /proc/PID/root (SQLite resolves that link to "/",
/// outside the namespace: a library there is copied out before it is opened).
pub struct MountNs {
    holder: Child,
}

impl MountNs {
    /// `setup` (shell commands that mount) run in a new namespace; `None`, with a visible SKIP
    /// line, where the sandbox does not allow it.
    pub fn new(test: &str, setup: &str) -> Option<Self> {
        let script = format!("{setup} && echo ready && exec cat");
        let spawned = StdCommand::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut holder = match spawned {
            Ok(holder) => holder,
            Err(e) => {
                eprintln!("SKIP {test}: unshare is not available ({e})");
                return None;
            }
        };
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.as_mut().unwrap()).read_line(&mut line);
        if line.trim() != "ready" {
            let _ = holder.kill();
            let out = holder.wait_with_output().unwrap();
            let why = String::from_utf8_lossy(&out.stderr);
            eprintln!("SKIP {test}: this sandbox allows no private mounts ({})", why.trim());
            return None;
        }
        Some(MountNs { holder })
    }

    /// Shell commands run inside the namespace (to remount, say).
    pub fn sh(&self, script: &str) -> Output {
        StdCommand::new("nsenter")
            .args(["-t", &self.holder.id().to_string(), "-m", "sh", "-c", script])
            .output()
            .unwrap()
    }

    /// `pagewise --library LIBRARY` inside the namespace.
    pub fn pagewise(&self, library: &Path) -> StdCommand {
        let mut c = StdCommand::new("nsenter");
        c.args(["-t", &self.holder.id().to_string(), "-m", "--"])
            .arg(assert_cmd::cargo::cargo_bin("pagewise"))
            .arg("--library")
            .arg(library);
        c
    }

    /// `path` as seen inside the namespace, reached from outside it.
    pub fn seen(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.holder.id())).join(path.strip_prefix("/").unwrap())
    }

    /// The library at `library` inside the namespace, copied to `to` outside it.
    pub fn copy_out(&self, library: &Path, to: &Path) -> PathBuf {
        let _ = std::fs::remove_dir_all(to);
        copy_dir(&self.seen(library), to);
        to.to_path_buf()
    }
}

impl Drop for MountNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A two-page text invoice (number INV-2024-001, total 1,234.50 EUR) shared by the CLI tests.
pub fn invoice_pdf() -> Vec<u8> {
    pagewise_testkit::PdfBuilder::new()
        .page(
            pagewise_testkit::PdfPage::a4()
                .bold(72.0, 80.0, 20.0, "ACME Tools Ltd")
                .text(72.0, 120.0, 12.0, "Invoice Number: INV-2024-001")
                .text(72.0, 140.0, 12.0, "Date: 12 March 2024")
                .text(400.0, 700.0, 12.0, "Total due: 1,234.50 EUR"),
        )
        .page(pagewise_testkit::PdfPage::a4().text(72.0, 100.0, 11.0, "Terms: payment within thirty days"))
        .build()
}
