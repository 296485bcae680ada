//! The library commands: thin wrappers that call the engine and print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use pagewise_engine::{
    collect_files, AddOptions, AddOutcome, AddStatus, Document, Error, ImageFormat, LayoutMode, Meaning, PaddleOcrVl,
    PageSource, Precision, Progress, RegionReading, Result, Stop,
};
use serde_json::json;

use crate::context::{open, print_json, resolve, with_advice, worded, Ctx};
use crate::progress::{EmbeddingBar, ImportBars};

pub fn add(ctx: &Ctx, paths: &[PathBuf], opts: AddOptions) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let files = collect_files(paths);
    let bars = ImportBars::new();
    let cancel = AtomicBool::new(false);
    let json = ctx.json;
    let outcomes = lib.add_files(&files, &opts, &cancel, &mut |event| {
        bars.on(event);
        if let Progress::FileFinished { outcome, .. } = event {
            if json {
                bars.println(&serde_json::to_string(outcome).expect("serialisable"));
            } else {
                bars.println(&describe(outcome));
            }
        }
    })?;
    let failed = outcomes.iter().filter(|o| o.status == AddStatus::Failed).count();
    if opts.password.is_some() && !lib.remembers_passwords() {
        eprintln!(
            "note: no OS keyring answers here, so the password is not kept: pass it again (--password-stdin) to commands \
             that draw the pages of an encrypted PDF (render, text --reader ocr/vlm, ask --reader vlm)"
        );
    }
    if !json {
        let added = outcomes.iter().filter(|o| o.status == AddStatus::Added).count();
        let dups = outcomes.iter().filter(|o| o.status == AddStatus::Duplicate).count();
        eprintln!("{added} added, {dups} duplicate, {failed} failed");
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn describe(o: &AddOutcome) -> String {
    let id = o.doc_id.as_ref().map(|d| d.short().to_string()).unwrap_or_default();
    match o.status {
        AddStatus::Added => {
            let mut notes = vec![format!("{} pages", o.pages)];
            if !o.failed_pages.is_empty() {
                notes.push(format!("pages {:?} could not be read", o.failed_pages));
            }
            if !o.unread_pages.is_empty() {
                let why = o.unread_reason.as_ref().map(|e| format!(": {}", worded(e))).unwrap_or_default();
                notes.push(format!("pages {:?} have no text layer and were not read{why}", o.unread_pages));
            }
            format!("added      {id}  {} ({})", o.path, notes.join("; "))
        }
        AddStatus::Duplicate => format!("duplicate  {id}  {} (already in the library)", o.path),
        AddStatus::Failed => {
            let e = o.error.as_ref().map(|e| format!("{} [{}]", worded(e), e.kind)).unwrap_or_default();
            format!("failed     {e}")
        }
    }
}

pub fn list(ctx: &Ctx, offset: u64, limit: u64) -> Result<ExitCode> {
    let lib = open(ctx)?;
    let docs = lib.documents(offset, if limit == 0 { u64::MAX } else { limit })?;
    let total = lib.count_documents()?;
    if ctx.json {
        print_json(&docs);
    } else if total == 0 {
        eprintln!("the library at {} is empty: add documents with `pagewise add PATH...`", ctx.library_dir.display());
    } else {
        for d in &docs {
            println!("{}  {:>4} pages  {:<5} {}{}", d.id.short(), d.pages, d.kind.as_str(), d.name, status_note(d));
        }
    }
    let shown = offset + docs.len() as u64;
    if shown < total {
        eprintln!("{} to {shown} of {total} documents: `--offset {shown}` for the next ones", offset + 1);
    }
    Ok(ExitCode::SUCCESS)
}

fn status_note(d: &Document) -> String {
    let mut notes = Vec::new();
    if d.ocr_pages > 0 {
        notes.push(format!("{} read by OCR", d.ocr_pages));
    }
    if d.needs_reader_pages > 0 {
        notes.push(format!("{} not read yet", d.needs_reader_pages));
    }
    if d.failed_pages > 0 {
        notes.push(format!("{} failed", d.failed_pages));
    }
    if d.encrypted {
        notes.push("encrypted".into());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("  ({})", notes.join(", "))
    }
}

pub fn show(ctx: &Ctx, doc: &str) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let pages = lib.pages(&d.id)?;
    if ctx.json {
        let pages: Vec<_> = pages
            .iter()
            .map(|p| {
                json!({"page": p.page, "width": p.width, "height": p.height, "rotation": p.rotation, "turned": p.turned,
                       "photo_corners": p.photo_corners, "source": p.source, "words": p.words.len(), "error": p.error})
            })
            .collect();
        print_json(&json!({"document": d, "pages": pages}));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}\n  id       {}\n  kind     {}\n  bytes    {}\n  pages    {}{}\n  from     {}",
        d.name,
        d.id,
        d.kind.as_str(),
        d.bytes,
        d.pages,
        status_note(&d),
        d.origin
    );
    for p in pages {
        let note = match (p.error, p.photo_corners) {
            (Some(e), _) => format!("  {}", worded(&e)),
            (None, Some(_)) => "  (straightened from a photo; `render --original` draws the photo)".into(),
            (None, None) => String::new(),
        };
        println!(
            "  page {:>3}  {:>6.1} x {:<6.1} pt  rot {:<3}  {:<12}  {} words{note}",
            p.page,
            p.width,
            p.height,
            p.rotation,
            p.source.as_str(),
            p.words.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn text(ctx: &Ctx, doc: &str, page: Option<u32>) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let pages = match page {
        Some(n) => vec![lib.page(&d.id, n)?],
        None => lib.pages(&d.id)?,
    };
    if ctx.json {
        let pages: Vec<_> = pages
            .iter()
            .map(|p| {
                json!({
                    "page": p.page, "width": p.width, "height": p.height, "rotation": p.rotation, "turned": p.turned,
                    "source": p.source, "text": p.text, "words": p.words, "lines": p.lines, "graphics": p.graphics,
                    "error": p.error
                })
            })
            .collect();
        print_json(&json!({"doc_id": d.id, "name": d.name, "pages": pages}));
        return Ok(ExitCode::SUCCESS);
    }
    let many = pages.len() > 1;
    for p in &pages {
        if many {
            println!("--- page {} ---", p.page);
        }
        match p.source {
            PageSource::TextLayer | PageSource::Ocr | PageSource::Vlm => println!("{}", p.text),
            PageSource::NeedsReader => {
                let why = p.error.as_ref().map(|e| format!(" ({})", worded(e))).unwrap_or_default();
                eprintln!(
                    "page {}: no text layer (a scan or photo) and not read yet{why}: \
                     `pagewise text DOC --reader ocr --save` reads it",
                    p.page
                )
            }
            PageSource::Failed => {
                eprintln!(
                    "page {}: could not be read: {}",
                    p.page,
                    p.error.as_ref().map(worded).unwrap_or_else(|| "unknown".into())
                )
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Read pages from their pixels now (OCR) and print their lines; with `save`, the reading
/// replaces the pages' words in the library.
pub fn text_by_ocr(ctx: &Ctx, doc: &str, page: Option<u32>, save: bool) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let pages: Vec<u32> = match page {
        Some(n) => vec![n],
        None => (1..=d.pages).collect(),
    };
    let mut out = Vec::new();
    for n in pages {
        let (stored, read) = lib.read_by_ocr(&d.id, n, save)?;
        if ctx.json {
            out.push(json!({"page": n, "source": "ocr", "turned": stored.turned, "saved": save, "lines": read.lines}));
        } else {
            if d.pages > 1 && page.is_none() {
                println!("--- page {n} ---");
            }
            for l in &read.lines {
                println!("{}", l.text);
            }
        }
    }
    if ctx.json {
        print_json(&json!({"doc_id": d.id, "name": d.name, "pages": out}));
    }
    Ok(ExitCode::SUCCESS)
}

/// `text --reader vlm`: pages read by PaddleOCR-VL region by region, each region's text printed
/// as it ends (tables tab-separated, formulas as LaTeX), then a line on what the checks found.
pub fn text_by_vlm(ctx: &Ctx, doc: &str, page: Option<u32>, save: bool, precision: Precision) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let mut model = PaddleOcrVl::load_installed(precision)?;
    let pages: Vec<u32> = page.map(|n| vec![n]).unwrap_or_else(|| (1..=d.pages).collect());
    let mut out = Vec::new();
    for n in pages {
        if !ctx.json && d.pages > 1 && page.is_none() {
            println!("--- page {n} ---");
        }
        let mut print_region = |_: usize, _: usize, r: &RegionReading| {
            if ctx.json {
                return;
            }
            match (&r.error, r.task) {
                (Some(e), _) => eprintln!("[{} region not read: {e}]", r.label.as_str()),
                (None, None) => eprintln!("[{}: not read]", r.label.as_str()),
                (None, Some(_)) if !r.text.is_empty() => println!("{}\n", r.text),
                _ => {}
            }
        };
        // One page failing (its pixels, the model) is reported and the others go on.
        match lib.read_by_vlm(&d.id, n, save, &mut model, &mut print_region, &Default::default()) {
            Ok((_, read)) => {
                let confirmed = read.confirmed.iter().filter(|&&c| c).count();
                let not_on_page: Vec<&String> = read.regions.iter().flat_map(|r| &r.not_on_page).collect();
                let loops = read.regions.iter().filter(|r| r.stop == Some(Stop::Loop)).count();
                if ctx.json {
                    out.push(json!({
                        "page": n, "source": "vlm", "saved": save, "checked_against": read.checked_against,
                        "confirmed_words": confirmed, "words": read.words.len(), "regions": read.regions
                    }));
                } else {
                    eprintln!(
                        "page {n}: {} regions, {confirmed} of {} words confirmed by the page's {} reading{}{}",
                        read.regions.len(),
                        read.words.len(),
                        read.checked_against,
                        match not_on_page.len() {
                            0 => String::new(),
                            n => format!(
                                "; {n} word(s) not on the page: {}{}",
                                not_on_page.iter().take(12).map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
                                if n > 12 { " …" } else { "" }
                            ),
                        },
                        if loops > 0 { format!("; {loops} repetition loop(s) cut") } else { String::new() },
                    );
                }
            }
            Err(e) if page.is_none() => {
                eprintln!("page {n}: {}", with_advice(&e));
                out.push(json!({"page": n, "error": e.to_report()}));
            }
            Err(e) => return Err(e),
        }
    }
    if ctx.json {
        print_json(&json!({"doc_id": d.id, "name": d.name, "pages": out}));
    }
    Ok(ExitCode::SUCCESS)
}

/// What `render` draws.
pub enum Drawn {
    /// The page as it is read, perhaps with something over it.
    Page(Option<Overlay>),
    /// The photo a photographed page was found in.
    Original,
}

pub fn render(ctx: &Ctx, doc: &str, page: u32, dpi: f32, output: &Path, drawn: Drawn) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let mut img = match drawn {
        Drawn::Original => lib.render_original(&d.id, page, dpi)?,
        Drawn::Page(_) => lib.render_page(&d.id, page, dpi)?,
    };
    if let Drawn::Page(Some(Overlay::Layout)) = drawn {
        let layout = lib.page_layout(&d.id, page, LayoutMode::Auto)?;
        if let Some(e) = &layout.error {
            eprintln!("page {page}: no layout to draw: {}", worded(e));
        }
        pagewise_engine::draw_layout(&mut img, &layout);
    }
    img.save_with_format(output, image_format(output))
        .map_err(|e| Error::Io { path: output.into(), source: std::io::Error::other(e) })?;
    if ctx.json {
        print_json(
            &json!({"doc_id": d.id, "page": page, "width": img.width(), "height": img.height(), "output": output}),
        );
    } else {
        eprintln!("wrote {} ({}x{} px)", output.display(), img.width(), img.height());
    }
    Ok(ExitCode::SUCCESS)
}

/// What `render --overlay` draws over the page.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Overlay {
    /// Regions with their labels and reading order
    Layout,
}

pub fn thumbnail(ctx: &Ctx, doc: &str, page: u32) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = resolve(&mut lib, doc)?;
    let path = lib.thumbnail(&d.id, page)?;
    if ctx.json {
        print_json(&json!({"doc_id": d.id, "page": page, "thumbnail": path}));
    } else {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn image_format(path: &Path) -> ImageFormat {
    ImageFormat::from_path(path).unwrap_or(ImageFormat::Png)
}

pub fn search(ctx: &Ctx, query: &str, offset: usize, limit: usize, semantic: bool) -> Result<ExitCode> {
    let lib = open(ctx)?;
    let hits = if semantic {
        let mut meaning = Meaning::installed();
        if !meaning.available() {
            eprintln!("note: the embedding model is not installed (bash scripts/dev.sh models); full-text search only");
        }
        let bar = EmbeddingBar::new();
        lib.semantic_search(query, offset, limit, &mut meaning, &mut |e| bar.on(e))?
    } else {
        lib.search(query, offset, limit)?
    };
    if ctx.json {
        print_json(&hits);
    } else if hits.is_empty() {
        eprintln!("no matches for '{query}'");
    } else {
        for h in &hits {
            println!("{}  p.{:<3} {}  {}", h.doc_id.short(), h.page, h.name, h.snippet);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rm(ctx: &Ctx, doc: &str) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let d = lib.resolve(doc)?;
    lib.remove(&d.id)?;
    if ctx.json {
        print_json(&json!({"removed": d.id}));
    } else {
        eprintln!("removed {} ({})", d.name, d.id.short());
    }
    Ok(ExitCode::SUCCESS)
}
