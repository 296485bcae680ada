//! pdfium is not thread-safe: one worker thread owns the library for the whole process and
//! runs closures sent to it over a bounded channel. Everything that touches pdfium goes through
//! [`PdfiumWorker::run`].

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};

use pdfium_render::prelude::*;

use crate::loaded::Loaded;
use crate::{places, Error, Result};

type Job = Box<dyn FnOnce(&Pdfium) + Send>;

pub struct PdfiumWorker {
    jobs: SyncSender<Job>,
}

static WORKER: Loaded<PdfiumWorker> = Loaded::new();

/// The process's pdfium worker, started on first use (tried again if libpdfium was missing).
pub fn worker() -> Result<&'static PdfiumWorker> {
    WORKER.get_or_load(PdfiumWorker::start)
}

/// Why libpdfium could not be had.
fn missing(detail: String) -> Error {
    Error::PdfiumMissing { detail }
}

impl PdfiumWorker {
    fn start() -> Result<Self> {
        let lib = locate_library().map_err(missing)?;
        let (jobs, receiver) = sync_channel::<Job>(4);
        let (ready_tx, ready_rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("pdfium".into())
            .spawn(move || {
                let pdfium = match Pdfium::bind_to_library(&lib) {
                    Ok(bindings) => {
                        let _ = ready_tx.send(Ok(()));
                        Pdfium::new(bindings)
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot load {}: {e}", lib.display())));
                        return;
                    }
                };
                for job in receiver {
                    job(&pdfium);
                }
            })
            .map_err(|e| missing(format!("cannot start the pdfium thread: {e}")))?;
        ready_rx.recv().map_err(|_| missing("the pdfium thread died while starting".into()))?.map_err(missing)?;
        Ok(PdfiumWorker { jobs })
    }

    /// Run `f` on the pdfium thread and wait for its result. A panic inside pdfium-render is
    /// caught there and returned as a message, so one bad page never takes the thread down.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce(&Pdfium) -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = sync_channel(1);
        let job: Job = Box::new(move |pdfium| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(pdfium)));
            let _ = tx.send(result.map_err(crate::model::panic_message));
        });
        self.jobs.send(job).map_err(|_| missing("the pdfium thread has stopped".into()))?;
        let result = rx.recv().map_err(|_| missing("the pdfium thread has stopped".into()))?;
        result.map_err(|msg| missing(format!("pdfium panicked: {msg}")))
    }
}

/// Where libpdfium is (see [`crate::places`]): `$PAGEWISE_PDFIUM` (the file or its folder),
/// beside the executable or in its installation's `lib/pagewise/`, the user's data directory,
/// or the system's library folders.
fn locate_library() -> std::result::Result<PathBuf, String> {
    let name = Pdfium::pdfium_platform_library_name();
    let as_file = |p: PathBuf| if p.is_dir() { p.join(&name) } else { p };
    if let Some(env) = places::from_env("PAGEWISE_PDFIUM") {
        let path = as_file(env);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("PAGEWISE_PDFIUM points to {}, which does not exist", path.display()))
        };
    }
    let name = name.to_string_lossy();
    let mut candidates = places::beside_executable(&name);
    candidates.extend(places::user_data_dir().map(|d| d.join(&*name)));
    candidates.push(PathBuf::from("/usr/lib").join(&*name));
    candidates.push(PathBuf::from("/usr/local/lib").join(&*name));
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        format!("{name} is not in PAGEWISE_PDFIUM, beside the executable, the user's data directory or /usr/lib")
    })
}

/// Map pdfium's load errors onto the engine's typed errors.
pub(crate) fn load_error(path: &Path, password: Option<&str>, err: PdfiumError) -> Error {
    match err {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
            if password.is_some_and(|p| !p.is_empty()) {
                Error::WrongPassword { path: path.into() }
            } else {
                Error::PasswordRequired { path: path.into() }
            }
        }
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
            Error::UnsupportedSecurity { path: path.into() }
        }
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => Error::Corrupt {
            path: path.into(),
            format: "PDF",
            detail: "pdfium could not parse it, even after trying to repair its cross-reference table".into(),
        },
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FileError) | PdfiumError::IoError(_) => {
            Error::Unreadable { path: path.into(), source: std::io::Error::other(format!("{err:?}")) }
        }
        other => Error::Corrupt { path: path.into(), format: "PDF", detail: format!("{other:?}") },
    }
}

impl PdfiumWorker {
    /// Queue `f` on the pdfium thread without waiting; it reports through its own channel.
    pub fn spawn(&self, f: impl FnOnce(&Pdfium) + Send + 'static) -> Result<()> {
        let job: Job = Box::new(move |pdfium| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(pdfium)));
        });
        self.jobs.send(job).map_err(|_| missing("the pdfium thread has stopped".into()))
    }
}
