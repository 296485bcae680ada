//! Untrusted files are opened in worker processes. pdfium and the image decoders are large
//! native or hand-written parsers fed by files from anywhere: a segfault, an endless loop or a
//! decompression bomb in one of them must cost that one file, never the app, the CLI's batch or
//! the library. So every parse and every drawing of a file happens here: in a child process of
//! the front end's own executable (started with [`process::WORKER_FLAG`]) when the front end
//! called [`enter`], in-process otherwise (the engine's own tests, platforms without fork).
//!
//! A worker answers one request at a time over a socket ([`protocol`]); its memory is capped
//! and each step of an answer has a time limit ([`bounds`]). When it dies or overruns, the
//! request fails with [`Error::ReaderCrashed`] or [`Error::ReaderTimedOut`] and the next
//! request starts a fresh worker.

pub(crate) mod bounds;
#[cfg(unix)]
mod process;
pub(crate) mod protocol;
mod repair;
mod serve;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::OnceLock;

use image::RgbaImage;

use crate::model::FileKind;
use crate::source::ImagePage;
use crate::{Error, Result};
pub(crate) use protocol::{ImageHeader, Reply, Request};

/// The executable whose copies are the workers (set by [`enter`]).
static WORKER_EXE: OnceLock<PathBuf> = OnceLock::new();

/// First thing in a front end's `main`. In a process started as a worker, serve the parent
/// and exit here; otherwise, from now on, open untrusted files in workers of this executable.
pub fn enter() {
    #[cfg(unix)]
    {
        if std::env::args_os().nth(1).is_some_and(|a| a == process::WORKER_FLAG) {
            serve::serve();
        }
        if let Ok(exe) = std::env::current_exe() {
            let _ = WORKER_EXE.set(exe);
        }
    }
}

/// A request's answer, reply by reply. Dropped before its end, the worker is not reused.
pub(crate) struct Answer {
    from: From,
    /// The file as the user knows it, for errors.
    shown_as: PathBuf,
}

enum From {
    InProcess(Receiver<(Reply, Vec<u8>)>),
    #[cfg(unix)]
    Worker(Option<process::Worker>),
}

/// Send `request` to a worker (or run it here), naming `shown_as` in errors.
pub(crate) fn ask(request: Request, shown_as: &Path) -> Result<Answer> {
    let shown_as = shown_as.to_path_buf();
    #[cfg(unix)]
    if let Some(exe) = WORKER_EXE.get() {
        let send = |mut worker: process::Worker| worker.send(&request).map(|()| worker);
        // An idle worker may have died since its last answer: then a fresh one takes the request.
        let started = process::take(exe).and_then(send).or_else(|_| process::start(exe).and_then(send));
        return match started {
            Ok(worker) => Ok(Answer { from: From::Worker(Some(worker)), shown_as }),
            Err(e) => Err(Error::ReaderCrashed { path: shown_as, detail: format!("it could not be started ({e})") }),
        };
    }
    let (tx, rx) = sync_channel(4);
    std::thread::Builder::new()
        .name("pagewise-reader".into())
        .spawn(move || serve::handle(request, &mut |reply, payload| tx.send((reply, payload)).is_ok()))
        .map_err(|e| Error::Internal { path: shown_as.clone(), detail: format!("cannot start a thread: {e}") })?;
    Ok(Answer { from: From::InProcess(rx), shown_as })
}

impl Answer {
    /// The next reply; a failure (the worker died, overran its time, answered an error) is
    /// an error about the user's file.
    pub fn next(&mut self) -> Result<(Reply, Vec<u8>)> {
        let (reply, payload) = match &mut self.from {
            From::InProcess(rx) => rx.recv().map_err(|_| Error::ReaderCrashed {
                path: self.shown_as.clone(),
                detail: "it stopped without an answer".into(),
            })?,
            #[cfg(unix)]
            From::Worker(slot) => {
                let Some(worker) = slot.as_mut() else {
                    return Err(Error::Internal {
                        path: self.shown_as.clone(),
                        detail: "a reply was asked for after the last".into(),
                    });
                };
                match worker.receive(bounds::step_time()) {
                    Ok(frame) => {
                        if frame.0.is_last() {
                            process::keep(slot.take().expect("the worker answering"));
                        }
                        frame
                    }
                    Err(ended) => {
                        slot.take();
                        return Err(match ended {
                            process::Ended::TimedOut(step) => {
                                Error::ReaderTimedOut { path: self.shown_as.clone(), seconds: step.as_secs() }
                            }
                            process::Ended::Died(detail) => {
                                Error::ReaderCrashed { path: self.shown_as.clone(), detail }
                            }
                        });
                    }
                }
            }
        };
        match reply {
            Reply::Failed(e) => Err(e.into_error(&self.shown_as)),
            reply => Ok((reply, payload)),
        }
    }

    /// The one reply of a single-answer request.
    fn only(mut self) -> Result<(Reply, Vec<u8>)> {
        self.next()
    }
}

/// Pixels from a frame's payload.
pub(crate) fn image_of(header: ImageHeader, payload: Vec<u8>, shown_as: &Path) -> Result<RgbaImage> {
    RgbaImage::from_raw(header.width, header.height, payload).ok_or_else(|| Error::ReaderCrashed {
        path: shown_as.into(),
        detail: format!("it sent {}x{} pixels of the wrong length", header.width, header.height),
    })
}

fn unexpected(reply: &Reply, shown_as: &Path) -> Error {
    Error::Internal { path: shown_as.into(), detail: format!("the reader answered out of turn: {reply:?}") }
}

/// Open a PDF (at `path`, known to the user as `shown_as`): see [`Request::ReadPdf`].
pub(crate) fn read_pdf(
    path: &Path,
    password: Option<String>,
    draw_scans: bool,
    scan_pixels: f32,
    shown_as: &Path,
) -> Result<Answer> {
    ask(Request::ReadPdf { path: path.into(), password, draw_scans, scan_pixels }, shown_as)
}

/// Page `page` (1-based) of a PDF drawn `width` pixels wide, at most `height` high.
pub(crate) fn draw_pdf_page(
    path: &Path,
    password: Option<String>,
    page: u32,
    width: u32,
    height: u32,
) -> Result<RgbaImage> {
    let request = Request::DrawPdfPage { path: path.into(), password, page, width, height };
    match ask(request, path)?.only()? {
        (Reply::Image(header), payload) => image_of(header, payload, path),
        (other, _) => Err(unexpected(&other, path)),
    }
}

/// The pages of an image file, each decoded once (a truncated or corrupt image is refused now).
pub(crate) fn image_pages(path: &Path, kind: FileKind, shown_as: &Path) -> Result<Vec<ImagePage>> {
    match ask(Request::ImagePages { path: path.into(), kind }, shown_as)?.only()? {
        (Reply::ImagePages(pages), _) => Ok(pages),
        (other, _) => Err(unexpected(&other, shown_as)),
    }
}

/// A PDF that pdfium refused, rewritten to `out` (see `repair`); the file at `path` is left
/// as it is.
pub(crate) fn repair_pdf(path: &Path, out: &Path, shown_as: &Path) -> Result<()> {
    match ask(Request::RepairPdf { path: path.into(), out: out.into() }, shown_as)?.only()? {
        (Reply::Done, _) => Ok(()),
        (other, _) => Err(unexpected(&other, shown_as)),
    }
}

/// Page `index` (0-based) of an image file, decoded, orientation applied.
pub(crate) fn decode_image(path: &Path, kind: FileKind, index: usize, shown_as: &Path) -> Result<RgbaImage> {
    match ask(Request::DecodeImage { path: path.into(), kind, index }, shown_as)?.only()? {
        (Reply::Image(header), payload) => image_of(header, payload, shown_as),
        (other, _) => Err(unexpected(&other, shown_as)),
    }
}
