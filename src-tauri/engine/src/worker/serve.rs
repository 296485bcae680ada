//! The worker's side: what opening an untrusted file means, request by request (pdfium on its
//! thread, the image decoders), and the loop a worker process runs under its memory bound.
//! [`handle`] is also what runs in-process when no worker process is used.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use image::RgbaImage;
use pdfium_render::prelude::*;

use super::protocol::{read_frame, write_frame, ImageHeader, Reply, Request, WireError};
use crate::read::text_layer;
use crate::{pdfium, render, source, Error, Result};

/// Where a reply goes; `false` when nobody listens any more (the job stops).
pub type Send<'a> = dyn FnMut(Reply, Vec<u8>) -> bool + 'a;

/// Carry out one request, replying as it goes; its last reply is always sent (unless nobody
/// listens any more).
pub fn handle(request: Request, send: &mut Send) {
    let last = match request {
        Request::ReadPdf { path, password, draw_scans, scan_pixels } => {
            match read_pdf(path, password, draw_scans, scan_pixels, send) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Failed(WireError::from_error(&e)),
            }
        }
        Request::DrawPdfPage { path, password, page, width, height } => {
            return send_image(draw_pdf_page(path, password, page, width, height), send);
        }
        Request::ImagePages { path, kind } => match std::fs::read(&path).map_err(|e| Error::io(&path, e)) {
            Ok(bytes) => match source::image_pages(&path, &bytes, kind) {
                Ok(pages) => Reply::ImagePages(pages),
                Err(e) => Reply::Failed(WireError::from_error(&e)),
            },
            Err(e) => Reply::Failed(WireError::from_error(&e)),
        },
        Request::DecodeImage { path, kind, index } => {
            let image = std::fs::read(&path)
                .map_err(|e| Error::io(&path, e))
                .and_then(|bytes| source::decode_image_page(&path, &bytes, kind, index))
                .map(|img| img.to_rgba8());
            return send_image(image, send);
        }
        Request::RepairPdf { path, out } => match super::repair::repair_pdf(&path, &out) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Failed(WireError::from_error(&e)),
        },
    };
    send(last, Vec::new());
}

fn send_image(image: Result<RgbaImage>, send: &mut Send) {
    match image {
        Ok(img) => {
            let header = ImageHeader { width: img.width(), height: img.height() };
            send(Reply::Image(header), img.into_raw())
        }
        Err(e) => send(Reply::Failed(WireError::from_error(&e)), Vec::new()),
    };
}

/// Open a PDF on the pdfium thread, which streams its pages here through a bounded channel
/// (memory stays flat however long the document).
fn read_pdf(
    path: PathBuf,
    password: Option<String>,
    draw_scans: bool,
    scan_pixels: f32,
    send: &mut Send,
) -> Result<()> {
    let (tx, rx) = sync_channel::<Result<(Reply, Vec<u8>)>>(4);
    pdfium::worker()?.spawn(move |pdfium| {
        let doc = match pdfium.load_pdf_from_file(&path, password.as_deref()) {
            Ok(doc) => doc,
            Err(e) => {
                let _ = tx.send(Err(pdfium::load_error(&path, password.as_deref(), e)));
                return;
            }
        };
        let encrypted =
            !matches!(doc.permissions().security_handler_revision(), Ok(PdfSecurityHandlerRevision::Unprotected));
        let pages = doc.pages().len() as u32;
        if tx.send(Ok((Reply::PdfOpened { pages, encrypted }, Vec::new()))).is_err() {
            return;
        }
        for index in 0..pages {
            let no = index + 1;
            let read = doc
                .pages()
                .get(index as PdfPageIndex)
                .and_then(|page| read_page(&path, &page, no, draw_scans, scan_pixels));
            let reply = match read {
                Ok((reading, pixels)) => page_reply(no, Ok(reading), pixels),
                Err(e) => page_reply(no, Err(format!("pdfium could not read this page: {e:?}")), None),
            };
            if tx.send(Ok(reply)).is_err() {
                return;
            }
        }
    })?;
    for message in rx {
        let (reply, payload) = message?;
        if !send(reply, payload) {
            break;
        }
    }
    Ok(())
}

type Drawn = Option<Result<RgbaImage>>;

/// A page's text layer and, when it has none (a scan) and scans are drawn, its pixels.
fn read_page(
    path: &Path,
    page: &PdfPage,
    no: u32,
    draw_scans: bool,
    scan_pixels: f32,
) -> std::result::Result<(crate::model::Reading, Drawn), PdfiumError> {
    let raw = text_layer::read_words(page)?;
    let pixels = (raw.words.is_empty() && draw_scans).then(|| {
        let scale = scan_pixels / raw.width.max(raw.height).max(1.0);
        let (w, h) = ((raw.width * scale).round().max(1.0) as u32, (raw.height * scale).round().max(1.0) as u32);
        render::pdf_bitmap(page, w, h).map_err(|e| Error::Page {
            doc: path.display().to_string(),
            page: no,
            detail: format!("pdfium could not render it: {e:?}"),
        })
    });
    Ok((raw, pixels))
}

fn page_reply(no: u32, reading: std::result::Result<crate::model::Reading, String>, pixels: Drawn) -> (Reply, Vec<u8>) {
    let (pixels, payload) = match pixels {
        None => (None, Vec::new()),
        Some(Ok(img)) => (Some(Ok(ImageHeader { width: img.width(), height: img.height() })), img.into_raw()),
        Some(Err(e)) => (Some(Err(WireError::from_error(&e))), Vec::new()),
    };
    (Reply::PdfPage { no, reading, pixels }, payload)
}

fn draw_pdf_page(path: PathBuf, password: Option<String>, page: u32, width: u32, height: u32) -> Result<RgbaImage> {
    pdfium::worker()?.run(move |pdfium| {
        let doc = pdfium
            .load_pdf_from_file(&path, password.as_deref())
            .map_err(|e| pdfium::load_error(&path, password.as_deref(), e))?;
        let page_fail = |e: PdfiumError| Error::Page {
            doc: path.display().to_string(),
            page,
            detail: format!("pdfium could not render it: {e:?}"),
        };
        let p = doc.pages().get(page as PdfPageIndex - 1).map_err(page_fail)?;
        render::pdf_bitmap(&p, width, height).map_err(page_fail)
    })?
}

/// A worker process's life: take requests from stdin, answer on stdout, until the parent
/// closes its end. Never returns.
pub fn serve() -> ! {
    super::bounds::limit_own_memory();
    // A panic is caught where it happens and answered as an error; its message is not noise
    // for the parent's terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let mut input = std::io::stdin().lock();
    let mut output = std::io::BufWriter::new(std::io::stdout().lock());
    while let Ok(Some((request, _))) = read_frame::<Request>(&mut input) {
        super::bounds::test_hook(&request);
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle(request, &mut |reply, payload| write_frame(&mut output, &reply, &payload).is_ok())
        }));
        if let Err(panic) = answer {
            let failed = Reply::Failed(WireError::Internal(crate::model::panic_message(panic)));
            if write_frame(&mut output, &failed, &[]).is_err() {
                break;
            }
        }
    }
    std::process::exit(0)
}
