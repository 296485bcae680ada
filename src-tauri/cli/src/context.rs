//! What every command shares: where the library is and how to print, opening it, finding a
//! document, and errors worded for the command line (the advice on how to fix an error is the
//! CLI's own, chosen from the engine's error kind).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pagewise_engine::models::hub;
use pagewise_engine::{AddOptions, Document, Error, Library, Result};
use serde_json::json;

/// Where the library is and how to print.
pub struct Ctx {
    pub library_dir: PathBuf,
    pub json: bool,
}

pub fn open(ctx: &Ctx) -> Result<Library> {
    Library::open(&ctx.library_dir)
}

pub fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string(value).expect("serialisable"));
}

/// A DOC argument: an existing file is imported first (a no-op when already there); anything
/// else is a document id, id prefix or file name in the library.
pub fn resolve(lib: &mut Library, doc: &str) -> Result<Document> {
    let path = Path::new(doc);
    if path.is_file() {
        let outcome = lib.add_file(path, &AddOptions::default(), &mut |_, _| {});
        return match (outcome.doc_id, outcome.error) {
            (Some(id), None) => lib.document(&id),
            (_, Some(e)) => Err(Error::Library { path: path.into(), detail: e.message }),
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
        match hint {
            Some(hint) => eprintln!("error: {e} ({hint})"),
            None => eprintln!("error: {e}"),
        }
    }
    ExitCode::from(1)
}

/// How to fix an error from the command line, when there is something to do.
pub fn advice(e: &Error) -> Option<String> {
    Some(match e {
        Error::PasswordRequired { .. } => "pass it with --password".into(),
        Error::WrongPassword { .. } => "check the password given with --password".into(),
        Error::PdfiumMissing { .. } => {
            "run `bash scripts/dev.sh setup` to fetch it, or set PAGEWISE_PDFIUM to the path of libpdfium.so".into()
        }
        Error::NoDataDir => "pass --library DIR or set PAGEWISE_LIBRARY".into(),
        Error::ModelMissing { model, downloadable: true, .. } => format!("run `{}` to get it", get_command(model)),
        Error::ModelMissing { downloadable: false, .. } => {
            "run `bash scripts/dev.sh models` to fetch it, or set PAGEWISE_MODELS to the folder that holds it".into()
        }
        Error::ModelDamaged { model, .. } => format!("run `pagewise models verify {model}`, then get it again"),
        Error::ModelUnpinned { model } => format!(
            "`pagewise models get {model} --unpinned` takes the hub's current commit and checks each file against \
             the hub's checksums"
        ),
        Error::NotEnoughMemory { .. } => "close other programs or use --dtype bf16".into(),
        Error::OutputExists { .. } => "choose another name, or pass --force to replace it".into(),
        Error::RenderTooLarge { .. } => "use a lower --dpi".into(),
        Error::Internal { .. } => "please report it with the file if you can".into(),
        _ => return None,
    })
}

/// The command that installs a downloadable model.
pub fn get_command(model: &str) -> String {
    let unpinned = if hub::hub_model(model).is_ok_and(|m| !m.is_pinned()) { " --unpinned" } else { "" };
    format!("pagewise models get {model}{unpinned}  (offline: pagewise models import FOLDER_OR_ARCHIVE)")
}
