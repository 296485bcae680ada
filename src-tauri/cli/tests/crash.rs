//! kill -9 in the middle of an import batch and of an extraction run, again and again: the
//! library stays intact (SQLite's integrity check), every document in it is complete (all its
//! pages, its original) or absent, every field value is from a finished run (a document's
//! values for a schema are written together) or absent, and running again finishes the rest,
//! nothing imported twice and every value as an uninterrupted run leaves it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{check_whole, copy_dir};
use pagewise_testkit::{article, pdfium_available, PdfBuilder, PdfPage};

const DOCUMENTS: u32 = 12;
/// Kills in all, each of a run on a fresh library.
const KILLS: u32 = 50;

fn pagewise(library: &Path, args: &[&str]) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("pagewise"))
        .arg("--library")
        .arg(library)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// How long a whole run takes here (kills land from its start to its end), in ms.
fn timed(library: &Path, args: &[&str]) -> u64 {
    let start = Instant::now();
    assert!(pagewise(library, args).wait().unwrap().success(), "an uninterrupted run of {args:?}");
    start.elapsed().as_millis().max(50) as u64
}

/// Delays before each kill, spread over a run that takes `whole` ms (xorshift: the same points
/// on every machine of the same speed).
fn kill_points(whole: u64) -> impl Iterator<Item = Duration> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..KILLS).map(move |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        Duration::from_millis(seed % whole)
    })
}

/// `pagewise ARGS` killed with SIGKILL (no unwinding, no cleanup) after `delay`.
fn killed(library: &Path, args: &[&str], delay: Duration) {
    let mut child = pagewise(library, args);
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
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
    let add = ["add", folder.to_str().unwrap()];
    let whole = timed(&scratch.path().join("timing"), &add);
    let mut midway = 0; // kills that left some documents imported and some not
    for (kill, delay) in kill_points(whole).enumerate() {
        let library = scratch.path().join(format!("library-{kill}"));
        killed(&library, &add, delay);
        // Killed before the library was made: there is nothing to check yet, the rerun makes it.
        let held = if library.join("library.sqlite3").is_file() {
            check_whole(&library, &format!("after kill {kill}"))
        } else {
            0
        };
        midway += usize::from(held > 0 && held < DOCUMENTS as usize);
        assert!(pagewise(&library, &add).wait().unwrap().success(), "the rerun after kill {kill}");
        assert_eq!(check_whole(&library, "after the rerun"), DOCUMENTS as usize, "every document once");
    }
    eprintln!("{KILLS} kills in a batch of {DOCUMENTS} documents ({whole} ms): {midway} landed midway");
    assert!(midway >= (KILLS / 2) as usize, "too few kills landed in the middle of the batch: {midway}");
}

/// An invoice of its own for each seed (its own file, vendor, number and amounts).
fn invoice(seed: u32) -> Vec<u8> {
    let (net, tax) = (100 + seed * 37, (100 + seed * 37) / 5);
    let mut page = PdfPage::a4()
        .bold(50.0, 70.0, 20.0, &format!("Vendor {seed} Trading Ltd"))
        .text(380.0, 100.0, 10.0, &format!("Invoice No: INV-{:04}", 1000 + seed))
        .text(380.0, 115.0, 10.0, &format!("Date: March {}, 2024", 1 + seed % 28))
        .bold(50.0, 170.0, 10.0, "Bill to")
        .text(50.0, 185.0, 10.0, "Acme Corp")
        .text(380.0, 300.0, 10.0, "Subtotal")
        .text(480.0, 300.0, 10.0, &format!("${net}.00"))
        .text(380.0, 316.0, 10.0, "Sales tax 20%")
        .text(480.0, 316.0, 10.0, &format!("${tax}.00"))
        .bold(380.0, 334.0, 11.0, "Amount due")
        .bold(480.0, 334.0, 11.0, &format!("${}.00", net + tax));
    for (i, word) in pagewise_testkit::filler_words(seed, 60).chunks(10).enumerate() {
        page = page.text(50.0, 400.0 + 14.0 * i as f32, 9.0, &word.join(" "));
    }
    PdfBuilder::new().page(page).build()
}

/// Each document's stored values for the invoice schema: field -> (value as JSON, when written).
type Values = BTreeMap<String, BTreeMap<String, (String, i64)>>;

fn values(library: &Path) -> Values {
    let db = rusqlite::Connection::open(library.join("library.sqlite3")).unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let mut rows =
        db.prepare("SELECT doc_id, field, value, updated_at FROM field_values WHERE schema = 'invoice'").unwrap();
    let mut out = Values::new();
    let all = rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap();
    for row in all {
        let (doc, field, value, at): (String, String, String, i64) = row.unwrap();
        out.entry(doc).or_default().insert(field, (value, at));
    }
    out
}

#[test]
fn an_extraction_run_killed_anywhere_keeps_whole_runs_and_a_rerun_finishes_it() {
    if !pdfium_available("an_extraction_run_killed_anywhere") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let folder = scratch.path().join("invoices");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..DOCUMENTS {
        std::fs::write(folder.join(format!("invoice{i:02}.pdf")), invoice(i)).unwrap();
    }
    // Imported once; every run starts from a copy of this library.
    let imported = scratch.path().join("imported");
    assert!(pagewise(&imported, &["add", folder.to_str().unwrap()]).wait().unwrap().success());
    let extract = ["extract", folder.to_str().unwrap(), "--schema", "invoice"];
    let reference = scratch.path().join("reference");
    copy_dir(&imported, &reference);
    let whole = timed(&reference, &extract);
    let expected = values(&reference);
    assert_eq!(expected.len(), DOCUMENTS as usize, "an uninterrupted run fills in every document");
    let same = |got: &Values, when: &str| {
        for (doc, fields) in got {
            let want = &expected[doc];
            assert_eq!(fields.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{when}: {doc} is partial");
            for (field, (value, _)) in fields {
                assert_eq!(value, &want[field].0, "{when}: {doc}'s {field} is not a finished run's");
            }
            let written: std::collections::BTreeSet<_> = fields.values().map(|(_, at)| at).collect();
            assert_eq!(written.len(), 1, "{when}: {doc}'s values were not written together");
        }
    };
    let mut midway = 0; // kills that left some documents filled in and some not
    for (kill, delay) in kill_points(whole).enumerate() {
        let library = scratch.path().join(format!("library-{kill}"));
        copy_dir(&imported, &library);
        killed(&library, &extract, delay);
        let when = format!("after kill {kill}");
        let held = values(&library);
        same(&held, &when);
        midway += usize::from(!held.is_empty() && held.len() < DOCUMENTS as usize);
        assert_eq!(check_whole(&library, &when), DOCUMENTS as usize, "{when}: nothing imported twice");
        assert!(pagewise(&library, &extract).wait().unwrap().success(), "the rerun after kill {kill}");
        let done = values(&library);
        same(&done, "after the rerun");
        assert_eq!(done.len(), DOCUMENTS as usize, "after the rerun after kill {kill}: every document filled in");
        assert_eq!(check_whole(&library, "after the rerun"), DOCUMENTS as usize, "nothing imported twice");
        std::fs::remove_dir_all(&library).unwrap();
    }
    eprintln!("{KILLS} kills in an extraction run of {DOCUMENTS} documents ({whole} ms): {midway} landed midway");
    assert!(midway >= (KILLS / 3) as usize, "too few kills landed in the middle of the run: {midway}");
}
