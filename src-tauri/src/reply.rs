//! How commands answer the UI: engine work runs off the UI thread, and an error reaches the UI
//! as `{kind, message}`, its message ending with the app's own advice on what to do (the
//! engine says what failed; how to fix it is worded here, for people using the window).

use pagewise_engine::models::hub;
use pagewise_engine::{Error, ErrorReport};

pub type Reply<T> = Result<T, ErrorReport>;

/// Run engine work off the UI thread.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> pagewise_engine::Result<T> + Send + 'static) -> Reply<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ErrorReport { kind: "internal".into(), message: e.to_string() })?
        .map_err(|e| report(&e))
}

/// An error as the UI shows it.
pub fn report(e: &Error) -> ErrorReport {
    let advice = match e {
        Error::ModelMissing { model, downloadable: true, .. } => {
            let unpinned = if hub::hub_model(model).is_ok_and(|m| !m.is_pinned()) { " --unpinned" } else { "" };
            Some(format!("download it in the Models panel, or run `pagewise models get {model}{unpinned}`"))
        }
        _ => advice_for(e.kind()).map(str::to_string),
    };
    with(e.to_report(), advice)
}

/// A kept error (a page's, a file's) as the UI shows it, with the app's advice for its kind.
/// (Libraries made before the front ends worded the advice kept it in the message, after
/// "; run `": such a message is shown as it is.)
pub fn worded(report: ErrorReport) -> ErrorReport {
    let advice = advice_for(&report.kind).filter(|_| !report.message.contains("; run `")).map(str::to_string);
    with(report, advice)
}

fn with(mut report: ErrorReport, advice: Option<String>) -> ErrorReport {
    if let Some(hint) = advice {
        report.message = format!("{} ({hint})", report.message);
    }
    report
}

/// A path the person did not drop or pick.
pub fn refused(message: String) -> ErrorReport {
    ErrorReport { kind: "not_granted".into(), message }
}

/// What to do about an error of `kind`, in the app's terms. (The models a page or a file
/// names in a kept error are the ones that come with Pagewise.)
fn advice_for(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "password_required" => {
            "enter it in the file's row of the library list; a document imported in an earlier session, where no \
             OS keyring kept its password, draws its pages from the command line: pagewise render … --password-stdin"
        }
        "wrong_password" => "check the password and enter it again",
        "keyring" => "unlock your keyring (log in to the desktop session), then open the library again",
        "pdfium_missing" => "Pagewise's PDF library is missing: reinstall Pagewise",
        "model_missing" => "see the Models panel for how to install it",
        "model_damaged" => "verify it in the Models panel, then download it again",
        "not_enough_memory" => "close other programs, or choose bf16 or q8 in the Models panel",
        "hub_failed" => "without a connection, import the model's folder in the Models panel",
        "reader_crashed" | "reader_timed_out" => "the file is likely damaged; your other documents are safe",
        "disk_full" => "free some space on that disk and try again; what was done before is kept",
        "read_only" => "the library is on a read-only disk: it can be read, not changed",
        "unwritable" => "choose a folder you may write in",
        "internal" => "please report it with the file if you can",
        _ => return None,
    })
}
