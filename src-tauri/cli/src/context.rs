//! What every command shares: where the library is and how to print, opening it, finding a
//! document, and errors worded for the command line (the advice on how to fix an error is the
//! CLI's own, chosen from the engine's error kind).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagewise_engine::models::hub;
use pagewise_engine::{AddOptions, Document, Error, ErrorReport, Library, Result};
use serde_json::json;

/// Where the library is and how to print.
pub struct Ctx {
    pub library_dir: PathBuf,
    pub json: bool,
    /// `--password`, tried on encrypted PDFs whose password is not kept.
    pub password: Option<String>,
}

pub fn open(ctx: &Ctx) -> Result<Library> {
    let lib = Library::open(&ctx.library_dir)?;
    lib.offer_password(ctx.password.clone());
    Ok(lib)
}

/// One JSON line on stdout. Stdout may be a file on a full disk: that is an error worded like
/// any other (exit 1), not a panic.
pub fn print_json(value: &impl serde::Serialize) {
    use std::io::Write;
    let line = serde_json::to_string(value).expect("serialisable");
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
        fail(false, &Error::write("standard output", e));
        std::process::exit(1);
    }
}

/// A DOC argument: an existing file is imported first (a no-op when already there); anything
/// else is a document id, id prefix or file name in the library.
pub fn resolve(lib: &mut Library, doc: &str) -> Result<Document> {
    let path = Path::new(doc);
    if path.is_file() {
        let outcome = lib.add_file(path, &AddOptions::default(), &mut |_, _| {});
        return match (outcome.doc_id, outcome.error) {
            (Some(id), None) => lib.document(&id),
            (_, Some(e)) => Err(Error::Library { path: path.into(), detail: worded(&e) }),
            _ => unreachable!("an outcome without an id has an error"),
        };
    }
    lib.resolve(doc)
}

/// Print an error (with advice, where there is some) and exit 1.
pub fn fail(json: bool, e: &Error) -> ExitCode {
    let hint = advice(e);
    if json {
        let mut report = json!({ "error": e.to_report() });
        if let Some(hint) = &hint {
            report["error"]["hint"] = json!(hint);
        }
        eprintln!("{report}");
    } else {
        eprintln!("error: {}", with_advice(e));
    }
    ExitCode::from(1)
}

/// An error's message, with advice where there is some.
pub fn with_advice(e: &Error) -> String {
    match advice(e) {
        Some(hint) => format!("{e} ({hint})"),
        None => e.to_string(),
    }
}

/// How to fix an error from the command line, when there is something to do.
pub fn advice(e: &Error) -> Option<String> {
    Some(match e {
        Error::ModelMissing { model, downloadable: true, .. } => format!("run `{}` to get it", get_command(model)),
        Error::ModelDamaged { model, .. } => format!("run `pagewise models verify {model}`, then get it again"),
        Error::ModelUnpinned { model } => format!(
            "`pagewise models get {model} --unpinned` takes the hub's current commit and checks each file against \
             the hub's checksums"
        ),
        _ => return advice_for(e.kind()).map(str::to_string),
    })
}

/// The advice for an error of `kind` that needs nothing but its kind. (Errors kept with a page or
/// a file are reports, kind and message: the models they name are the ones the set-up fetches.)
fn advice_for(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "password_required" => {
            "pass it with --password-stdin (asked for, or piped) or --password (it is remembered only where an OS \
             keyring answers)"
        }
        "keyring" => {
            "unlock the keyring (log in to the desktop session), or set PAGEWISE_KEYRING=none to go on without one: \
             passwords an older library kept are then forgotten, not written anywhere"
        }
        "wrong_password" => "check the password given with --password-stdin or --password",
        "pdfium_missing" => {
            "run `bash scripts/dev.sh setup` to fetch it, or set PAGEWISE_PDFIUM to the path of libpdfium.so"
        }
        "no_data_dir" => "pass --library DIR or set PAGEWISE_LIBRARY",
        "model_missing" => {
            "run `bash scripts/dev.sh models` to fetch it, or set PAGEWISE_MODELS to the folder that holds it"
        }
        "not_enough_memory" => "close other programs or use --dtype bf16",
        "hub_failed" => "offline machines: `pagewise models import FOLDER_OR_ARCHIVE`",
        "output_exists" => "choose another name, or pass --force to replace it",
        "disk_full" => "free some space on that disk and run the command again; what was done before is kept",
        "read_only" => "the library can be read but not changed there: copy it to a writable disk and pass --library",
        "unwritable" => "check that the folder exists and that you may write in it",
        "render_too_large" => "use a lower --dpi",
        "reader_crashed" => "the file is likely damaged or hostile; the rest of the batch went on",
        "reader_timed_out" => {
            "the file is likely damaged or hostile; PAGEWISE_WORKER_SECONDS raises the limit if it is not"
        }
        "internal" => "please report it with the file if you can",
        _ => return None,
    })
}

/// A kept error (a page's, a file's) as the CLI prints it: its message, and advice where its
/// kind has some. (Libraries made before the front ends worded the advice kept it in the
/// message, after "; run `": such a message is printed as it is.)
pub fn worded(report: &ErrorReport) -> String {
    match advice_for(&report.kind) {
        Some(hint) if !report.message.contains("; run `") => format!("{} ({hint})", report.message),
        _ => report.message.clone(),
    }
}

/// The command that installs a downloadable model.
pub fn get_command(model: &str) -> String {
    let unpinned = if hub::hub_model(model).is_ok_and(|m| !m.is_pinned()) { " --unpinned" } else { "" };
    format!("pagewise models get {model}{unpinned}  (offline: pagewise models import FOLDER_OR_ARCHIVE)")
}
