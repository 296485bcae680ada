//! Importing files, top to bottom: a file is identified (source), copied into the library,
//! opened in a worker process (pdfium or the image decoder: `worker`), repaired into a copy if
//! pdfium refuses it, each page read (its text layer, or its pixels by the OCR reader when it
//! has none; a photo of a document is straightened to its page first) and put in reading order,
//! then stored and indexed in one transaction. Progress is reported as events; a failed file or
//! page is data in the report, never a crash.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::reading::read_by_ocr;
use super::Library;
use crate::model::{
    AddOutcome, AddStatus, Corners, FileKind, Graphics, LayoutMode, Page, PageSource, Progress, Reading,
};
use crate::read::ocr::page::PDF_PIXELS;
use crate::read::straighten::{find_page, straighten};
use crate::read::{failed_page, page_of};
use crate::source::{Hashing, ImagePage, SourceFile};
use crate::store::{ImageMeta, JobItem, NewDocument, Store};
use crate::worker::{self, Reply};
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Password for encrypted PDFs (tried on every encrypted file of the batch).
    pub password: Option<String>,
    /// Leave pages without a text layer unread (`needs-reader`) instead of reading them by OCR.
    pub skip_ocr: bool,
}

/// Files to import: each path, with folders walked (hidden entries skipped, sorted).
pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let walker = walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
            out.extend(walker.filter_map(|e| e.ok()).filter(|e| e.file_type().is_file()).map(|e| e.into_path()));
        } else {
            out.push(p.clone());
        }
    }
    out
}

impl Library {
    /// Import `paths` (files; walk directories with [`collect_files`] first) one after another.
    pub fn add_files(
        &mut self,
        paths: &[PathBuf],
        opts: &AddOptions,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<AddOutcome>> {
        let job = self.store.start_job("import", paths.len())?;
        progress(&Progress::JobStarted { job, files: paths.len() });
        let mut outcomes = Vec::with_capacity(paths.len());
        for (index, path) in paths.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            progress(&Progress::FileStarted { index, path: path.display().to_string() });
            let outcome =
                self.add_file(path, opts, &mut |page, pages| progress(&Progress::PageRead { index, page, pages }));
            self.store.record_job_item(
                job,
                &JobItem {
                    path: outcome.path.clone(),
                    doc_id: outcome.doc_id.as_ref().map(|d| d.0.clone()),
                    status: format!("{:?}", outcome.status).to_lowercase(),
                    error: outcome.error.clone(),
                },
            )?;
            progress(&Progress::FileFinished { index, outcome: outcome.clone() });
            outcomes.push(outcome);
        }
        // The networks keep freed memory for their next steps; the batch is done with it.
        crate::nn::release_freed_memory();
        let cancelled = outcomes.len() < paths.len();
        self.store.finish_job(job, if cancelled { "cancelled" } else { "done" })?;
        let count = |s: AddStatus| outcomes.iter().filter(|o| o.status == s).count();
        progress(&Progress::JobFinished {
            job,
            added: count(AddStatus::Added),
            duplicates: count(AddStatus::Duplicate),
            failed: count(AddStatus::Failed),
            cancelled,
        });
        Ok(outcomes)
    }

    /// Import one file. Never panics and never touches other documents: on failure the library
    /// is as it was (the transaction rolls back and the copied original is removed).
    pub fn add_file(&mut self, path: &Path, opts: &AddOptions, on_page: &mut dyn FnMut(u32, u32)) -> AddOutcome {
        let mut outcome =
            AddOutcome { path: path.display().to_string(), status: AddStatus::Failed, ..Default::default() };
        let src = match SourceFile::read(path) {
            Ok(src) => src,
            Err(e) => {
                outcome.error = Some(e.to_report());
                return outcome;
            }
        };
        outcome.doc_id = Some(src.id.clone());
        match self.store.contains(&src.id) {
            Ok(true) => {
                outcome.status = AddStatus::Duplicate;
                outcome.pages = self.store.document(&src.id).map(|d| d.pages).unwrap_or(0);
                return outcome;
            }
            Ok(false) => {}
            Err(e) => {
                outcome.error = Some(e.to_report());
                return outcome;
            }
        }
        let stored = self.store.original_path(&src.id, src.kind);
        // A bug in a stage must cost this file, not the batch: a panic becomes this file's error
        // (the transaction rolls back as it unwinds).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            keep_original(&self.store, &src).and_then(|stored| match src.kind {
                FileKind::Pdf => import_pdf(&mut self.store, &src, &stored, opts, &mut outcome, on_page),
                _ => import_image(&mut self.store, &src, &stored, opts, &mut outcome, on_page),
            })
        }))
        .unwrap_or_else(|panic| {
            Err(Error::Internal { path: src.path.clone(), detail: crate::model::panic_message(panic) })
        });
        match result {
            Ok(pages) => {
                outcome.status = AddStatus::Added;
                outcome.pages = pages;
                // Its password goes to the keyring (never the database), to draw its pages later.
                if let (Some(password), Ok(true)) = (
                    opts.password.as_deref().filter(|p| !p.is_empty()),
                    self.store.document(&src.id).map(|d| d.encrypted),
                ) {
                    self.secrets.keep(self.store.library_id(), &src.id, password);
                }
                // Pages read from pixels get their layout from the detector. It runs now, beside
                // the much longer OCR, so that such a page opens at once in the viewer. A failure
                // is kept with the page's layout and retried when it is next asked for.
                if self.store.document(&src.id).is_ok_and(|d| d.ocr_pages > 0) {
                    let _ = self.document_layout(&src.id, LayoutMode::Auto);
                }
            }
            Err(e) => {
                let _ = std::fs::remove_file(&stored);
                let _ = std::fs::remove_file(self.store.repaired_path(&src.id));
                outcome.repaired = false;
                (outcome.failed_pages, outcome.unread_pages, outcome.unread_reason) = (vec![], vec![], None);
                outcome.error = Some(e.to_report());
            }
        }
        outcome
    }
}

/// Copy the file into the library, checking on the way that it is still the file identified.
fn keep_original(store: &Store, src: &SourceFile) -> Result<PathBuf> {
    let file = std::fs::File::open(&src.path).map_err(|e| Error::io(&src.path, e))?;
    let mut reading = Hashing::new(file);
    let stored = store.keep_original(&src.id, src.kind, &mut reading)?;
    if reading.id() != src.id {
        let _ = std::fs::remove_file(&stored);
        let changed = std::io::Error::other("it changed while it was being imported; import it again");
        return Err(Error::Unreadable { path: src.path.clone(), source: changed });
    }
    Ok(stored)
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// A page drawn for the OCR reader, or why it could not be.
type Pixels = Result<image::RgbImage>;

/// Read a PDF in a worker while this thread orders and stores the pages it sends (they stream
/// through: memory stays flat however long the document). A worker that dies or overruns its
/// time fails this file, as a whole: the transaction rolls back.
fn import_pdf(
    store: &mut Store,
    src: &SourceFile,
    stored: &Path,
    opts: &AddOptions,
    outcome: &mut AddOutcome,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<u32> {
    let stopped =
        || Error::Corrupt { path: src.path.clone(), format: "PDF", detail: "pdfium stopped while reading it".into() };
    let open = |path: &Path| -> Result<(worker::Answer, u32, bool)> {
        let mut answer = worker::read_pdf(path, opts.password.clone(), !opts.skip_ocr, PDF_PIXELS, &src.path)?;
        match answer.next()? {
            (Reply::PdfOpened { pages, encrypted }, _) => Ok((answer, pages, encrypted)),
            _ => Err(stopped()),
        }
    };
    // Refused as damaged: repaired (into a copy) and tried again, before giving up. A repair
    // that leaves no page is no repair.
    let (mut answer, pages, encrypted) = match open(stored) {
        Err(refused @ Error::Corrupt { .. }) => match repair(&*store, src, stored).and_then(|copy| open(&copy)) {
            Ok(opened) if opened.1 > 0 => {
                outcome.repaired = true;
                opened
            }
            _ => {
                let _ = std::fs::remove_file(store.repaired_path(&src.id));
                return Err(refused);
            }
        },
        opened => opened?,
    };
    let name = name_of(&src.path);
    let origin = src.path.display().to_string();
    let new = NewDocument {
        id: &src.id,
        name: &name,
        origin: &origin,
        kind: FileKind::Pdf,
        bytes: src.size,
        pages,
        encrypted,
    };
    let mut tx = store.begin_import(&new)?;
    for _ in 0..pages {
        let (Reply::PdfPage { no, reading, pixels }, payload) = answer.next()? else {
            return Err(stopped());
        };
        let page = match (reading, pixels) {
            (Ok(raw), None) => page_of(no, raw),
            (Ok(raw), Some(drawn)) => {
                let pixels = drawn
                    .map_err(|e| e.into_error(&src.path))
                    .and_then(|header| worker::image_of(header, payload, &src.path))
                    .map(|img| image::DynamicImage::ImageRgba8(img).to_rgb8());
                read_pixels(page_of(no, raw), pixels)
            }
            (Err(message), _) => {
                failed_page(no, Error::Page { doc: name.clone(), page: no, detail: message }.to_report())
            }
        };
        outcome.note(&page);
        tx.add_page(&page, ImageMeta::default())?;
        on_page(no, pages);
    }
    // The answer's end, which also frees the worker for the next file.
    let (Reply::Done, _) = answer.next()? else {
        return Err(stopped());
    };
    tx.commit()?;
    Ok(pages)
}

/// A repaired copy of a PDF that pdfium refused, kept beside its original.
fn repair(store: &Store, src: &SourceFile, stored: &Path) -> Result<PathBuf> {
    let part = store.repaired_path(&src.id).with_extension("part");
    let repaired = worker::repair_pdf(stored, &part, &src.path).and_then(|()| store.keep_repaired(&src.id, &part));
    if repaired.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    repaired
}

/// A page without a text layer, read from its pixels by the OCR reader. If the reader is not
/// installed or fails, the page stays `needs-reader` with the reason, and the import goes on.
fn read_pixels(page: Page, pixels: Pixels) -> Page {
    match pixels.and_then(|img| read_by_ocr(&page, &img)) {
        // The scan is the page itself, not a picture on it; form fields filled over it stay
        // (where the reader did not turn the page: their boxes are the unturned page's).
        Ok((read, _)) => {
            let fields = if read.turned == 0 { page.graphics.fields } else { Vec::new() };
            Page { graphics: Graphics { fields, ..Default::default() }, ..read }
        }
        Err(e) => Page { error: Some(e.to_report()), ..page },
    }
}

fn import_image(
    store: &mut Store,
    src: &SourceFile,
    stored: &Path,
    opts: &AddOptions,
    outcome: &mut AddOutcome,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<u32> {
    let image_pages = worker::image_pages(stored, src.kind, &src.path)?;
    let pages = image_pages.len() as u32;
    let name = name_of(&src.path);
    let origin = src.path.display().to_string();
    let new = NewDocument {
        id: &src.id,
        name: &name,
        origin: &origin,
        kind: src.kind,
        bytes: src.size,
        pages,
        encrypted: false,
    };
    let mut tx = store.begin_import(&new)?;
    for (i, ip) in image_pages.iter().enumerate() {
        let (pixels, photo_corners) = match worker::decode_image(stored, src.kind, i, &src.path) {
            Ok(img) => straightened(image::DynamicImage::ImageRgba8(img).to_rgb8()),
            Err(e) => (Err(e), None),
        };
        // A straightened page's size is its own pixels' at the photo's DPI.
        let (width, height) = match (&pixels, photo_corners) {
            (Ok(img), Some(_)) => ImagePage { width_px: img.width(), height_px: img.height(), ..*ip }.size_points(),
            _ => ip.size_points(),
        };
        let reading = Reading { source: PageSource::NeedsReader, width, height, photo_corners, ..Default::default() };
        let mut page = page_of(i as u32 + 1, reading);
        if !opts.skip_ocr {
            page = read_pixels(page, pixels);
        }
        outcome.note(&page);
        tx.add_page(&page, ImageMeta { dpi: Some(ip.dpi), orientation: Some(ip.orientation) })?;
        on_page(i as u32 + 1, pages);
    }
    tx.commit()?;
    Ok(pages)
}

/// A photo of a document straightened to its page, with where the page was found; any other
/// image as it is.
fn straightened(img: image::RgbImage) -> (Pixels, Option<Corners>) {
    match find_page(&img) {
        Some(corners) => (Ok(straighten(&img, &corners)), Some(corners)),
        None => (Ok(img), None),
    }
}
