//! The wiring, top to bottom: a file is read and identified (source), copied into the library,
//! opened (pdfium or the image decoder), each page read (its text layer, or its pixels by the
//! OCR reader when it has none) and put in reading order (read::order), then stored and indexed
//! in one transaction (store). Progress is reported as
//! serialisable events; a failed file or page is data in the report, never a crash.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use pdfium_render::prelude::*;
use serde::{Deserialize, Serialize};

use crate::doc::{DocId, FileKind, Page, PageSource};
use crate::read::{order, text_layer};
use crate::source::{self, SourceFile};
use crate::store::{ImageMeta, JobItem, Library, NewDocument};
use crate::{ocr, pdfium, render, Error, ErrorReport, Result};

#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Password for encrypted PDFs (tried on every encrypted file of the batch).
    pub password: Option<String>,
    /// Leave pages without a text layer unread (`needs-reader`) instead of reading them by OCR.
    pub skip_ocr: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum AddStatus {
    Added,
    Duplicate,
    #[default]
    Failed,
}

/// What happened to one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct AddOutcome {
    pub path: String,
    pub doc_id: Option<DocId>,
    pub pages: u32,
    pub status: AddStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// Pages of an added document that could not be read (recorded in the library).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failed_pages: Vec<u32>,
    /// Pages without a text layer that the OCR reader did not read, and why (e.g. its model is
    /// not installed); they are kept as `needs-reader` and can be read later.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unread_pages: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unread_reason: Option<ErrorReport>,
}

impl AddOutcome {
    /// Note a page that could not be read, or was left unread.
    fn note(&mut self, page: &Page) {
        match page.source {
            PageSource::Failed => self.failed_pages.push(page.page),
            PageSource::NeedsReader => {
                self.unread_pages.push(page.page);
                if self.unread_reason.is_none() {
                    self.unread_reason = page.error.clone();
                }
            }
            _ => {}
        }
    }
}

/// Events of a long-running job, for progress bars (CLI) and the desktop shell's channel.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "event", content = "data", rename_all = "kebab-case")]
pub enum Progress {
    JobStarted {
        #[ts(type = "number")]
        job: i64,
        files: usize,
    },
    FileStarted {
        index: usize,
        path: String,
    },
    PageRead {
        index: usize,
        page: u32,
        pages: u32,
    },
    FileFinished {
        index: usize,
        outcome: AddOutcome,
    },
    JobFinished {
        #[ts(type = "number")]
        job: i64,
        added: usize,
        duplicates: usize,
        failed: usize,
        cancelled: bool,
    },
    /// Field extraction: one document done (`error` when it failed; the others go on).
    Extracted {
        index: usize,
        doc_id: DocId,
        name: String,
        error: Option<ErrorReport>,
    },
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

/// Import `paths` (files; walk directories with [`collect_files`] first) one after another.
pub fn add_files(
    lib: &mut Library,
    paths: &[PathBuf],
    opts: &AddOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<AddOutcome>> {
    let job = lib.start_job("import", paths.len())?;
    progress(&Progress::JobStarted { job, files: paths.len() });
    let mut outcomes = Vec::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        progress(&Progress::FileStarted { index, path: path.display().to_string() });
        let outcome =
            add_file(lib, path, opts, &mut |page, pages| progress(&Progress::PageRead { index, page, pages }));
        lib.record_job_item(
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
    lib.finish_job(job, if cancelled { "cancelled" } else { "done" })?;
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
pub fn add_file(lib: &mut Library, path: &Path, opts: &AddOptions, on_page: &mut dyn FnMut(u32, u32)) -> AddOutcome {
    let mut outcome = AddOutcome { path: path.display().to_string(), status: AddStatus::Failed, ..Default::default() };
    let src = match SourceFile::read(path) {
        Ok(src) => src,
        Err(e) => {
            outcome.error = Some(e.to_report());
            return outcome;
        }
    };
    outcome.doc_id = Some(src.id.clone());
    match lib.contains(&src.id) {
        Ok(true) => {
            outcome.status = AddStatus::Duplicate;
            outcome.pages = lib.document(&src.id).map(|d| d.pages).unwrap_or(0);
            return outcome;
        }
        Ok(false) => {}
        Err(e) => {
            outcome.error = Some(e.to_report());
            return outcome;
        }
    }
    let stored = lib.original_path(&src.id, src.kind);
    // A bug in a stage must cost this file, not the batch: a panic becomes this file's error
    // (the transaction rolls back as it unwinds).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store_original(&stored, &src.bytes).and_then(|()| match src.kind {
            FileKind::Pdf => import_pdf(lib, &src, &stored, opts, &mut outcome, on_page),
            _ => import_image(lib, &src, opts, &mut outcome, on_page),
        })
    }))
    .unwrap_or_else(|panic| {
        Err(Error::Internal { path: src.path.clone(), detail: crate::pdfium::panic_message(panic) })
    });
    match result {
        Ok(pages) => {
            outcome.status = AddStatus::Added;
            outcome.pages = pages;
            // Pages read from pixels get their layout from the detector. It runs now, beside
            // the much longer OCR, so that such a page opens at once in the viewer. A failure
            // is kept with the page's layout and retried when it is next asked for.
            if lib.document(&src.id).is_ok_and(|d| d.ocr_pages > 0) {
                let _ = crate::layout::document_layout(lib, &src.id, crate::layout::LayoutMode::Auto);
            }
        }
        Err(e) => {
            let _ = std::fs::remove_file(&stored);
            (outcome.failed_pages, outcome.unread_pages, outcome.unread_reason) = (vec![], vec![], None);
            outcome.error = Some(e.to_report());
        }
    }
    outcome
}

/// Write the original atomically (temp file + rename), so a crash never leaves half a copy.
fn store_original(dest: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = dest.with_extension("part");
    std::fs::write(&tmp, bytes).map_err(|e| Error::Io { path: tmp.clone(), source: e })?;
    std::fs::rename(&tmp, dest).map_err(|e| Error::Io { path: dest.into(), source: e })
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Messages from the pdfium thread while it reads a document, page by page.
enum PdfEvent {
    Opened { pages: u32, encrypted: bool },
    Page(u32, std::result::Result<(text_layer::RawPage, Option<Pixels>), String>),
}

/// A page drawn for the OCR reader, or why it could not be.
type Pixels = Result<image::RgbImage>;

/// Read a PDF on the pdfium thread while this thread orders and stores the pages it sends
/// (a bounded channel: pages stream through, memory stays flat however long the document).
fn import_pdf(
    lib: &mut Library,
    src: &SourceFile,
    stored: &Path,
    opts: &AddOptions,
    outcome: &mut AddOutcome,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<u32> {
    let worker = pdfium::worker()?;
    let (tx, rx) = sync_channel::<std::result::Result<PdfEvent, Error>>(8);
    let (file, user_path, password, ocr) =
        (stored.to_path_buf(), src.path.clone(), opts.password.clone(), !opts.skip_ocr);
    worker.spawn(move |pdfium| {
        let doc = match pdfium.load_pdf_from_file(&file, password.as_deref()) {
            Ok(doc) => doc,
            Err(e) => {
                let _ = tx.send(Err(pdfium::load_error(&user_path, password.as_deref(), e)));
                return;
            }
        };
        let encrypted =
            !matches!(doc.permissions().security_handler_revision(), Ok(PdfSecurityHandlerRevision::Unprotected));
        let pages = doc.pages().len() as u32;
        if tx.send(Ok(PdfEvent::Opened { pages, encrypted })).is_err() {
            return;
        }
        for index in 0..pages {
            let read = doc
                .pages()
                .get(index as PdfPageIndex)
                .and_then(|page| {
                    let raw = text_layer::read_words(&page)?;
                    // No text layer: draw the page for the reader (a scan).
                    let pixels = (raw.words.is_empty() && ocr).then(|| {
                        let scale = ocr::page::PDF_PIXELS / raw.width.max(raw.height).max(1.0);
                        let (w, h) =
                            ((raw.width * scale).round().max(1.0) as u32, (raw.height * scale).round().max(1.0) as u32);
                        render::pdf_bitmap(&page, w, h)
                            .map(|img| image::DynamicImage::ImageRgba8(img).to_rgb8())
                            .map_err(|e| Error::Page {
                                doc: user_path.display().to_string(),
                                page: index + 1,
                                detail: format!("pdfium could not render it: {e:?}"),
                            })
                    });
                    Ok((raw, pixels))
                })
                .map_err(|e| format!("pdfium could not read this page: {e:?}"));
            if tx.send(Ok(PdfEvent::Page(index + 1, read))).is_err() {
                return;
            }
        }
    })?;
    let disconnected =
        || Error::Corrupt { path: src.path.clone(), format: "PDF", detail: "pdfium stopped while reading it".into() };
    let (pages, encrypted) = match rx.recv() {
        Ok(Ok(PdfEvent::Opened { pages, encrypted })) => (pages, encrypted),
        Ok(Err(e)) => return Err(e),
        _ => return Err(disconnected()),
    };
    let name = name_of(&src.path);
    let origin = src.path.display().to_string();
    let password = if encrypted { opts.password.as_deref().filter(|p| !p.is_empty()) } else { None };
    let new = NewDocument {
        id: &src.id,
        name: &name,
        origin: &origin,
        kind: FileKind::Pdf,
        bytes: src.bytes.len() as u64,
        pages,
        encrypted,
        password,
    };
    let mut tx = lib.begin_import(&new)?;
    for _ in 0..pages {
        let Ok(Ok(PdfEvent::Page(no, read))) = rx.recv() else {
            return Err(disconnected());
        };
        let page = match read {
            Ok((raw, None)) => page_from_words(no, raw),
            Ok((raw, Some(pixels))) => read_pixels(page_from_words(no, raw), pixels),
            Err(message) => {
                let err = Error::Page { doc: name.clone(), page: no, detail: message };
                Page {
                    page: no,
                    width: 0.0,
                    height: 0.0,
                    rotation: 0,
                    turned: 0,
                    source: PageSource::Failed,
                    text: String::new(),
                    words: vec![],
                    lines: vec![],
                    graphics: Default::default(),
                    error: Some(err.to_report()),
                }
            }
        };
        outcome.note(&page);
        tx.add_page(&page, ImageMeta::default())?;
        on_page(no, pages);
    }
    tx.commit()?;
    Ok(pages)
}

/// A page from its words: reading order, lines, text; no words means a reader model is needed.
pub fn page_from_words(no: u32, raw: text_layer::RawPage) -> Page {
    let source = if raw.words.is_empty() { PageSource::NeedsReader } else { PageSource::TextLayer };
    let (lines, text) = order::arrange_in(&raw.words, raw.direction);
    Page {
        page: no,
        width: raw.width,
        height: raw.height,
        rotation: raw.rotation,
        turned: 0,
        source,
        text,
        words: raw.words,
        lines,
        graphics: raw.graphics,
        error: None,
    }
}

/// A page without a text layer, read from its pixels by the OCR reader. If the reader is not
/// installed or fails, the page stays `needs-reader` with the reason, and the import goes on.
fn read_pixels(page: Page, pixels: Pixels) -> Page {
    match pixels.and_then(|img| read_into(page.clone(), &img)) {
        Ok((read, _)) => {
            // The scan is the page itself, not a picture on it.
            Page { graphics: Default::default(), ..read }
        }
        Err(e) => Page { error: Some(e.to_report()), ..page },
    }
}

/// `page` read from `img`, its pixels as the page stands: the reading's words, lines and
/// upright size, its turn added to the page's own.
fn read_into(page: Page, img: &image::RgbImage) -> Result<(Page, ocr::OcrPage)> {
    let read = ocr::read_image(img, page.width / img.width().max(1) as f32)?;
    let (lines, text) = order::arrange(&read.words);
    let turned = (page.turned + read.turned) % 360;
    let page = Page {
        width: read.width,
        height: read.height,
        turned,
        source: PageSource::Ocr,
        text,
        words: read.words.clone(),
        lines,
        error: None,
        ..page
    };
    Ok((page, read))
}

fn import_image(
    lib: &mut Library,
    src: &SourceFile,
    opts: &AddOptions,
    outcome: &mut AddOutcome,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<u32> {
    let image_pages = source::image_pages(&src.path, &src.bytes, src.kind)?;
    let pages = image_pages.len() as u32;
    let name = name_of(&src.path);
    let origin = src.path.display().to_string();
    let new = NewDocument {
        id: &src.id,
        name: &name,
        origin: &origin,
        kind: src.kind,
        bytes: src.bytes.len() as u64,
        pages,
        encrypted: false,
        password: None,
    };
    let mut tx = lib.begin_import(&new)?;
    for (i, ip) in image_pages.iter().enumerate() {
        let (width, height) = ip.size_points();
        let mut page = Page {
            page: i as u32 + 1,
            width,
            height,
            rotation: 0,
            turned: 0,
            source: PageSource::NeedsReader,
            text: String::new(),
            words: vec![],
            lines: vec![],
            graphics: Default::default(),
            error: None,
        };
        if !opts.skip_ocr {
            page = read_pixels(
                page,
                source::decode_image_page(&src.path, &src.bytes, src.kind, i).map(|img| img.to_rgb8()),
            );
        }
        outcome.note(&page);
        tx.add_page(&page, ImageMeta { dpi: Some(ip.dpi), orientation: Some(ip.orientation) })?;
        on_page(i as u32 + 1, pages);
    }
    tx.commit()?;
    Ok(pages)
}

/// Read a stored page again from its pixels by OCR (a scan left unread, or a digital page whose
/// text layer is garbage). With `save` the reading replaces the page's words in the library.
pub fn reread_page(lib: &mut Library, id: &DocId, no: u32, save: bool) -> Result<(Page, ocr::OcrPage)> {
    let before = lib.page(id, no)?;
    let img = image::DynamicImage::ImageRgba8(render::page_pixels(lib, id, no, ocr::page::PDF_PIXELS)?).to_rgb8();
    let (page, read) = read_into(before, &img)?;
    if save {
        lib.replace_reading(id, &page)?;
    }
    Ok((page, read))
}

/// Read a stored page again with PaddleOCR-VL, region by region (see [`crate::vlm::page_reader`]):
/// the regions come from the layout detector over the page's other reading (its text layer, its
/// stored OCR words, or the scan reader run now), which the model's words are checked against.
/// Blocks of words the detector misses get regions of their own; with neither detector regions
/// nor words, the whole page is one text region. With `save` the reading replaces the
/// page's words in the library (source `vlm`). Setting `cancel` stops the reading
/// ([`Error::Cancelled`]); the stored page is then left as it was.
#[allow(clippy::too_many_arguments)]
pub fn read_page_by_vlm(
    lib: &mut Library,
    id: &DocId,
    no: u32,
    save: bool,
    model: &mut crate::vlm::paddleocr_vl::PaddleOcrVl,
    on_region: &mut dyn FnMut(usize, usize, &crate::vlm::page_reader::RegionReading),
    cancel: &AtomicBool,
) -> Result<(Page, crate::vlm::page_reader::VlmReading)> {
    use crate::layout::{analyze, Label, PageLayout, Region, RegionSource};
    use crate::vlm::page_reader;
    let before = lib.page(id, no)?;
    let img = image::DynamicImage::ImageRgba8(render::page_pixels(lib, id, no, ocr::page::PDF_PIXELS)?).to_rgb8();
    let (reference, img, checked_against) = match before.source {
        PageSource::TextLayer | PageSource::Ocr if !before.words.is_empty() => {
            let against = if before.source == PageSource::Ocr { "ocr" } else { "text-layer" };
            (before.clone(), img, against)
        }
        _ => match read_into(before.clone(), &img) {
            Ok((page, read)) => (page, render::turn(img, read.turned), "ocr"),
            Err(_) => (before.clone(), img, "nothing"),
        },
    };
    let scale = reference.width / img.width().max(1) as f32;
    let mut layout = analyze::detector_page(&reference, &img).unwrap_or_else(|_| PageLayout {
        page: no,
        width: reference.width,
        height: reference.height,
        regions: vec![],
        error: None,
    });
    page_reader::cover_unplaced_words(&mut layout, &reference);
    if layout.regions.is_empty() {
        // Nothing detected and no other reading: the whole page as one text region.
        let whole = crate::doc::BBox::new(0.0, 0.0, reference.width, reference.height);
        layout.regions.push(Region::new(Label::Text, whole, vec![], String::new(), 1.0, RegionSource::Geometric));
    }
    let read =
        page_reader::read_regions(model, &img, scale, &layout, &reference.words, checked_against, on_region, cancel);
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    let (lines, text) = order::arrange(&read.words);
    let page = Page { source: PageSource::Vlm, text, words: read.words.clone(), lines, error: None, ..reference };
    if save {
        lib.replace_reading(id, &page)?;
    }
    Ok((page, read))
}
