//! kill -9 in the middle of an import batch, again and again: the library stays intact (SQLite's
//! integrity check), every document in it is complete (all its pages, its original) or absent,
//! and running the batch again imports the rest, nothing twice.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pagewise_testkit::{article, pdfium_available};

const DOCUMENTS: u32 = 12;
/// Kills in all, each of a batch into a fresh library.
const KILLS: u32 = 50;

fn add(library: &Path, folder: &Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("pagewise"))
        .arg("--library")
        .arg(library)
        .arg("add")
        .arg(folder)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The library after a kill: intact, and each document in it whole. Returns how many it holds.
fn check(library: &Path, when: &str) -> usize {
    let db = rusqlite::Connection::open(library.join("library.sqlite3")).unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "{when}");
    let lib = pagewise_engine::Library::open(library).unwrap();
    let docs = lib.documents(0, u64::MAX).unwrap();
    for d in &docs {
        assert_eq!(lib.pages(&d.id).unwrap().len() as u32, d.pages, "{when}: {} is not whole", d.name);
        let original = library.join("originals").join(format!("{}.pdf", d.id));
        assert!(original.is_file(), "{when}: {} has no original", d.name);
    }
    docs.len()
}

#[test]
fn an_import_batch_killed_anywhere_leaves_the_library_whole_and_a_rerun_finishes_it() {
    if !pdfium_available("an_import_batch_killed_anywhere") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let folder = scratch.path().join("batch");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..DOCUMENTS {
        std::fs::write(folder.join(format!("article{i:02}.pdf")), article(4 + i % 7 * 4, 100 + i)).unwrap();
    }
    // How long a whole batch takes here: kills land from its start to its end.
    let start = std::time::Instant::now();
    assert!(add(&scratch.path().join("timing"), &folder).wait().unwrap().success());
    let whole = start.elapsed().as_millis().max(50) as u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut midway = 0; // kills that left some documents imported and some not
    for kill in 0..KILLS {
        let library = scratch.path().join(format!("library-{kill}"));
        let mut child = add(&library, &folder);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % whole));
        child.kill().unwrap(); // SIGKILL: no unwinding, no cleanup
        child.wait().unwrap();
        // Killed before the library was made: there is nothing to check yet, the rerun makes it.
        let held =
            if library.join("library.sqlite3").is_file() { check(&library, &format!("after kill {kill}")) } else { 0 };
        midway += usize::from(held > 0 && held < DOCUMENTS as usize);
        assert!(add(&library, &folder).wait().unwrap().success(), "the rerun after kill {kill}");
        assert_eq!(check(&library, "after the rerun"), DOCUMENTS as usize, "every document once");
    }
    eprintln!("{KILLS} kills in a batch of {DOCUMENTS} documents ({whole} ms): {midway} landed midway");
    assert!(midway >= (KILLS / 2) as usize, "too few kills landed in the middle of the batch: {midway}");
}
