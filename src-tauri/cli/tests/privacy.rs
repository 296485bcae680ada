//! Privacy and untrusted content, through the real `pagewise` binary: passwords of encrypted
//! PDFs never in the library's files (the OS keyring keeps them, a real Secret Service included
//! where gnome-keyring is installed); import, ask and extract open no network socket (strace);
//! a hostile PDF (JavaScript on opening, Launch actions, an embedded file, links) imported,
//! read and drawn starts no process, writes nothing outside the library and connects nowhere.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Lib;
use pagewise_testkit::{hostile_pdf, pdfium_available};

fn has(command: &str, test: &str) -> bool {
    // Spawning is the test: some (secret-tool) have no --version and exit non-zero.
    let found = Command::new(command).arg("--version").output().is_ok();
    if !found {
        eprintln!("SKIP {test}: {command} is absent (the set-up installs it)");
    }
    found
}

/// `plain` encrypted by qpdf with the user password `password`.
fn encrypted(lib: &Lib, password: &str) -> PathBuf {
    let plain = lib.file("plain.pdf", &common::invoice_pdf());
    let locked = lib.dir.path().join("locked.pdf");
    let ok =
        Command::new("qpdf").args(["--encrypt", password, "owner-pw", "256", "--"]).arg(&plain).arg(&locked).status();
    assert!(ok.unwrap().success());
    locked
}

/// Every byte of the library's files (database, write-ahead log, originals, thumbnails).
fn contains_anywhere(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    walk(dir).into_iter().filter(|p| std::fs::read(p).unwrap().windows(needle.len()).any(|w| w == needle)).collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn passwords_stay_out_of_the_library_and_without_a_keyring_are_asked_for_again() {
    if !pdfium_available("passwords_stay_out") || !has("qpdf", "passwords_stay_out") {
        return;
    }
    let lib = Lib::new();
    let password = "Zq7-unusual-passphrase";
    let locked = encrypted(&lib, password);
    // The tests run with PAGEWISE_KEYRING=none (common::Lib): the session-only fallback.
    let out = lib.cmd().args(["add", locked.to_str().unwrap(), "--password", password]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the password is not kept"));
    let library = lib.dir.path().join("library");
    let text = lib.json(&["text", "locked.pdf", "--page", "1"]);
    assert!(text["pages"][0]["text"].as_str().unwrap().contains("INV-2024-001"));
    assert_eq!(contains_anywhere(&library, password.as_bytes()), Vec::<PathBuf>::new());
    // Drawing its pages in a later session needs the password again, and works with it.
    let png = lib.dir.path().join("locked.png");
    let out = lib.cmd().args(["--json", "render", "locked.pdf", "--dpi", "36", "-o"]).arg(&png).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(err["error"]["kind"] == "password_required" || stderr.contains("needs a password"), "{stderr}");
    // Given on standard input, it never shows in the process list.
    let args = ["render", "locked.pdf", "--dpi", "36", "--password-stdin", "-o"];
    lib.cmd().args(args).arg(&png).write_stdin(format!("{password}\n")).assert().success();
    let args = ["render", "locked.pdf", "--dpi", "36", "--password-stdin", "-o"];
    let out = lib.cmd().args(["--json"]).args(args).arg(&png).write_stdin("wrong\n").output().unwrap();
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_default();
    assert_eq!(err["error"]["kind"], "wrong_password", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(contains_anywhere(&library, password.as_bytes()), Vec::<PathBuf>::new());
}

/// The real path: a Secret Service (gnome-keyring, in its own D-Bus session and a scratch home)
/// keeps the password, a later process draws the pages without being given it, and removing the
/// document removes its secret.
#[test]
fn passwords_go_to_a_real_secret_service_and_leave_with_the_document() {
    if !pdfium_available("real_keyring") || !has("qpdf", "real_keyring") || !has("dbus-run-session", "real_keyring") {
        return;
    }
    if !has("gnome-keyring-daemon", "real_keyring") || !has("secret-tool", "real_keyring") {
        return;
    }
    let lib = Lib::new();
    let password = "Zq7-keyring-passphrase";
    let locked = encrypted(&lib, password);
    let home = lib.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("pagewise");
    let script = r#"
        set -u
        printf 'unlock' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
        pw() { "$BIN" --library "$LIB" "$@"; }
        pw add "$LOCKED" --password "$PASSWORD" 2>&1 | grep -q 'not kept' && echo NOT-KEPT
        pw render locked.pdf --dpi 36 -o "$OUT" >/dev/null 2>&1 && echo RENDERED
        echo "STORED=$(secret-tool lookup service pagewise)"
        pw rm locked.pdf >/dev/null 2>&1 && echo REMOVED
        echo "AFTER=$(secret-tool lookup service pagewise)"
    "#;
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .env_remove("PAGEWISE_KEYRING")
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("share"))
        .env("XDG_RUNTIME_DIR", &home)
        .env("BIN", &bin)
        .env("LIB", lib.dir.path().join("library"))
        .env("LOCKED", &locked)
        .env("PASSWORD", password)
        .env("OUT", lib.dir.path().join("out.png"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    if !said.contains("STORED=") {
        eprintln!("SKIP real_keyring: no D-Bus session here ({})", String::from_utf8_lossy(&out.stderr).trim());
        return;
    }
    assert!(!said.contains("NOT-KEPT"), "the keyring did not answer: {said}");
    assert!(said.contains("RENDERED"), "a later process could not draw the pages: {said}");
    assert!(said.contains(&format!("STORED={password}")), "{said}");
    assert!(said.contains("REMOVED") && said.contains("AFTER=\n"), "the secret outlived its document: {said}");
    assert_eq!(contains_anywhere(&lib.dir.path().join("library"), password.as_bytes()), Vec::<PathBuf>::new());
}

/// `pagewise args` under `strace -f -e trace=<calls>`: its success and the trace. None (with a
/// visible message) where strace is absent or may not trace here.
fn traced(lib: &Lib, args: &[&str], calls: &str, test: &str) -> Option<(bool, String)> {
    if !has("strace", test) {
        return None;
    }
    let log = lib.dir.path().join(format!("strace-{}.txt", std::process::id()));
    let out = Command::new("strace")
        // execve too: the CLI's own start shows that tracing works when nothing else is seen.
        .args(["-f", "-qq", "-e", &format!("trace=execve,{calls}"), "-o"])
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin("pagewise"))
        .arg("--library")
        .arg(lib.dir.path().join("library"))
        .args(args)
        .env("PAGEWISE_KEYRING", "none")
        .output()
        .unwrap();
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if trace.is_empty() {
        eprintln!("SKIP {test}: strace could not trace here ({})", String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    if !out.status.success() {
        eprintln!("pagewise {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Some((out.status.success(), trace))
}

/// Sockets of the Internet families opened, or connections made through them.
fn network_calls(trace: &str) -> Vec<&str> {
    trace
        .lines()
        .filter(|l| {
            (l.contains("socket(AF_INET") || l.contains("connect("))
                && (l.contains("AF_INET") || l.contains("AF_INET6"))
        })
        .collect()
}

#[test]
fn import_ask_and_extract_open_no_network_socket() {
    if !pdfium_available("no_network") {
        return;
    }
    let lib = Lib::new();
    let pdf = lib.file("invoice.pdf", &common::invoice_pdf());
    let models = pagewise_engine::models::model_file("embed-weights").is_ok();
    let mut runs: Vec<Vec<&str>> = vec![vec!["add", pdf.to_str().unwrap()], vec!["search", "invoice"]];
    if models {
        runs.push(vec!["ask", "invoice.pdf", "What is the total?"]);
        runs.push(vec!["extract", "invoice.pdf", "--schema", "invoice"]);
    } else {
        eprintln!(
            "SKIP no_network (ask, extract): the embedding model is not installed (`bash scripts/dev.sh models`)"
        );
    }
    for args in runs {
        let Some((ok, trace)) = traced(&lib, &args, "socket,connect", "no_network") else { return };
        assert!(ok, "pagewise {args:?} failed");
        assert_eq!(network_calls(&trace), Vec::<&str>::new(), "pagewise {args:?} reached for the network");
    }
}

/// Files opened for writing by the traced process outside `allowed` folders (and /dev).
fn writes_outside<'a>(trace: &'a str, allowed: &[&Path]) -> Vec<&'a str> {
    trace
        .lines()
        .filter(|l| l.contains("open") && ["O_WRONLY", "O_RDWR", "O_CREAT"].iter().any(|f| l.contains(f)))
        .filter(|l| !l.contains("= -1"))
        .filter(|l| {
            let path = l.split('"').nth(1).unwrap_or("");
            !path.starts_with("/dev/") && !allowed.iter().any(|a| path.starts_with(&*a.to_string_lossy()))
        })
        .collect()
}

#[test]
fn a_hostile_pdf_runs_nothing_follows_nothing_and_writes_nowhere() {
    if !pdfium_available("hostile_pdf") {
        return;
    }
    let lib = Lib::new();
    // Anyone obeying the PDF's links or scripts would connect here.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/pwned", listener.local_addr().unwrap());
    let marker = lib.dir.path().join("pwned.txt");
    let pdf = lib.file("hostile.pdf", &hostile_pdf(&marker, &url));
    let library = lib.dir.path().join("library");
    let png = lib.dir.path().join("hostile.png");
    let runs: Vec<Vec<&str>> = vec![
        vec!["add", pdf.to_str().unwrap()],
        vec!["text", "hostile.pdf"],
        vec!["layout", "hostile.pdf"],
        vec!["render", "hostile.pdf", "--dpi", "72", "-o", png.to_str().unwrap()],
        vec!["thumbnail", "hostile.pdf"],
    ];
    let mut traced_any = false;
    for args in &runs {
        match traced(&lib, args, "socket,connect,open,openat,creat", "hostile_pdf") {
            Some((ok, trace)) => {
                traced_any = true;
                assert!(ok, "pagewise {args:?} failed");
                // The CLI itself, and the workers it opens files in (the same executable).
                let execs: Vec<&str> = trace.lines().filter(|l| l.contains("execve(")).collect();
                let others: Vec<&&str> = execs
                    .iter()
                    .skip(1)
                    .filter(|l| !(l.contains("--pagewise-worker") && l.contains(&*execs[0].split('"').nth(1).unwrap())))
                    .collect();
                assert_eq!(others, Vec::<&&str>::new(), "pagewise {args:?} started a process: {execs:#?}");
                assert_eq!(network_calls(&trace), Vec::<&str>::new(), "pagewise {args:?} reached for the network");
                let allowed = [library.as_path(), png.as_path()];
                assert_eq!(writes_outside(&trace, &allowed), Vec::<&str>::new(), "pagewise {args:?} wrote outside");
            }
            None => {
                let out = lib.cmd().args(args).output().unwrap();
                assert!(out.status.success(), "pagewise {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
    if !traced_any {
        eprintln!("hostile_pdf: checked without strace (marker file and listener only)");
    }
    let text = lib.json(&["text", "hostile.pdf"]);
    assert!(text["pages"][0]["text"].as_str().unwrap().contains("HOSTILE-001"), "{text}");
    assert!(!marker.exists(), "the PDF's script or launch action wrote its file");
    assert!(listener.accept().is_err(), "something followed the PDF's link");
    // Only the library and the requested picture were written in the scratch folder.
    let mut made: Vec<String> = std::fs::read_dir(lib.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["hostile.pdf", "hostile.png", "library"]);
}
