//! How commands answer the UI: engine work runs off the UI thread, and an error reaches the UI
//! as `{kind, message}`, its message ending with the app's own advice on what to do (the
//! engine says what failed; how to fix it is worded here, for people using the window).

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
    let mut report = e.to_report();
    if let Some(hint) = advice(e) {
        report.message = format!("{} ({hint})", report.message);
    }
    report
}

/// A path the person did not drop or pick.
pub fn refused(message: String) -> ErrorReport {
    ErrorReport { kind: "not_granted".into(), message }
}

/// What to do about an error, in the app's terms.
fn advice(e: &Error) -> Option<String> {
    Some(match e {
        Error::PasswordRequired { .. } => {
            "open it with its password from the command line: pagewise add FILE --password".into()
        }
        Error::PdfiumMissing { .. } => "Pagewise's PDF library is missing: reinstall Pagewise".into(),
        Error::ModelMissing { model, downloadable: true, .. } => {
            format!("download it in the Models panel, or run `pagewise models get {model}`")
        }
        Error::ModelMissing { .. } => "see the Models panel for how to install it".into(),
        Error::ModelDamaged { .. } => "verify it in the Models panel, then download it again".into(),
        Error::NotEnoughMemory { .. } => "close other programs, or choose bf16 or q8 in the Models panel".into(),
        Error::Internal { .. } => "please report it with the file if you can".into(),
        _ => return None,
    })
}
