//! `pagewise`: the command line on the same engine as the desktop app. Data goes to stdout
//! (human text, or JSON with --json); errors and progress go to stderr. Exit codes: 0 success,
//! 1 on an error or when some inputs failed, 2 usage error, 3 when `ask` finds no answer.

mod ask_cmd;
mod commands;
mod context;
mod extract_cmd;
mod layout_cmd;
mod models_cmd;
mod password;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use context::Ctx;

#[derive(Parser)]
#[command(name = "pagewise", version, about = "Local-first document analysis: import, read, search")]
pub struct Cli {
    /// Library directory (default: $PAGEWISE_LIBRARY, else the platform data directory)
    #[arg(long, global = true, value_name = "DIR")]
    library: Option<PathBuf>,
    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    /// Password for encrypted PDFs: kept in the OS keyring on `add`; any command that draws the
    /// pages of an encrypted PDF whose password is not kept tries it
    #[arg(long, global = true)]
    password: Option<String>,
    /// Read that password from standard input instead (its first line; asked for without echo
    /// on a terminal): unlike --password, it never shows in the process list
    #[arg(long, global = true, conflicts_with = "password")]
    password_stdin: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import files and folders (PDF, PNG, JPEG, TIFF, WebP); folders are walked
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Do not read pages without a text layer (scans, photos) by OCR now; they stay
        /// `needs-reader` until `pagewise text DOC --reader ocr --save`
        #[arg(long)]
        no_ocr: bool,
    },
    /// List the documents in the library, in the order they were added, a page at a time
    List {
        /// Documents to show (0: all of them)
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Skip this many first
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one document and its pages
    Show { doc: String },
    /// Print a document's text (words with boxes in --json), or Markdown following the layout
    Text {
        doc: String,
        /// Only this page (1-based)
        #[arg(long)]
        page: Option<u32>,
        #[arg(long, value_enum, default_value_t = TextFormat::Plain)]
        format: TextFormat,
        /// Where the text comes from: the stored text layer; read now from the pixels by OCR
        /// (PP-OCR; for scans, photos and pages whose text layer is garbage); or by PaddleOCR-VL
        /// region by region (`pagewise models get paddleocr-vl`), its words checked against
        /// the page's other reading
        #[arg(long, value_enum, default_value_t = ReaderKind::TextLayer)]
        reader: ReaderKind,
        /// With --reader ocr or vlm: keep the reading as the page's words (search, layout and
        /// extraction then use it)
        #[arg(long)]
        save: bool,
        /// With --reader vlm: weights in f32 (default), bf16 (half the memory) or q8 (the language
        /// model in 8 bits: faster decoding)
        #[arg(long, value_enum, default_value_t = ask_cmd::Precision::F32)]
        dtype: ask_cmd::Precision,
    },
    /// Layout regions (label, box, reading order, text, confidence, source; table cells)
    Layout {
        doc: String,
        #[arg(long)]
        page: Option<u32>,
        /// auto: geometric on text pages, on scans the detector fused with the OCR lines; or force one
        #[arg(long, value_enum, default_value_t = Mode::Auto)]
        mode: Mode,
    },
    /// Tables found by layout analysis; --csv DIR writes one CSV file per table
    Tables {
        doc: String,
        #[arg(long)]
        page: Option<u32>,
        #[arg(long, value_name = "DIR")]
        csv: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Mode::Auto)]
        mode: Mode,
    },
    /// Render a page to PNG
    Render {
        doc: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 150.0)]
        dpi: f32,
        #[arg(short, long)]
        output: PathBuf,
        /// Draw something over the page
        #[arg(long, value_enum)]
        overlay: Option<commands::Overlay>,
        /// A photographed page: draw the photo as it was shot, not the straightened page
        #[arg(long, conflicts_with = "overlay")]
        original: bool,
    },
    /// Print the path of a page's cached thumbnail (rendered on first use)
    Thumbnail {
        doc: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Ask a question about a document (or one page): the answer, its page and box, a confidence
    /// (exit code 3 when nothing is found)
    Ask {
        doc: String,
        question: String,
        #[arg(long)]
        page: Option<u32>,
        /// extractive: the page's words and layout (fast, no large model); vlm: Qwen3-VL looks at
        /// the page (`pagewise models get qwen3-vl-2b-instruct`), grounded and checked
        #[arg(long, value_enum, default_value_t = ask_cmd::Engine::Extractive)]
        engine: ask_cmd::Engine,
        /// With --engine vlm: the largest page image given to the model, in pixels
        #[arg(long, default_value_t = pagewise_engine::DEFAULT_MAX_PIXELS)]
        max_pixels: usize,
        /// With --engine vlm: weights in f32 (default), bf16 (half the memory) or q8 (the language
        /// model in 8 bits: faster decoding)
        #[arg(long, value_enum, default_value_t = ask_cmd::Precision::F32)]
        dtype: ask_cmd::Precision,
    },
    /// Fill in a schema's fields (invoice, receipt, contract, or a TOML file) for documents,
    /// folders or globs, and export them (CSV, or JSON with --json)
    Extract {
        #[arg(required = true)]
        docs: Vec<String>,
        /// invoice | receipt | contract | FILE.toml
        #[arg(long)]
        schema: String,
        /// Write CSV to this file ("-" for stdout)
        #[arg(long, value_name = "OUT")]
        csv: Option<PathBuf>,
        /// Add <field>_page and <field>_confidence columns
        #[arg(long)]
        with_evidence: bool,
        /// CSV for Excel: byte-order mark and ';' between cells
        #[arg(long)]
        excel: bool,
        /// Replace the output file if it exists
        #[arg(long)]
        force: bool,
        /// extractive: the page's words and layout; vlm: each field's questions put to Qwen3-VL
        /// looking at the page, answers checked against the page's words
        #[arg(long, value_enum, default_value_t = ask_cmd::Engine::Extractive)]
        engine: ask_cmd::Engine,
        /// With --engine vlm: weights in f32 (default), bf16 or q8
        #[arg(long, value_enum, default_value_t = ask_cmd::Precision::F32)]
        dtype: ask_cmd::Precision,
    },
    /// Set a field's value by hand (kept and marked as yours when extraction runs again)
    Correct {
        doc: String,
        #[arg(long)]
        schema: String,
        field: String,
        value: String,
    },
    /// Print a preset schema's TOML (invoice, receipt, contract) to start your own
    Schema { name: String },
    /// Search every page in the library: full-text, or with --semantic by meaning too
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Skip this many best hits first (the next page of results)
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Also rank pages by meaning (sentence embeddings), merged with the full-text hits
        #[arg(long)]
        semantic: bool,
    },
    /// Remove a document (its pages, index entries, stored original and kept password)
    Rm { doc: String },
    /// Models: list, get from the hub, verify, import offline, remove
    Models {
        #[command(subcommand)]
        what: models_cmd::ModelsCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
enum ReaderKind {
    TextLayer,
    Ocr,
    Vlm,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TextFormat {
    Plain,
    Markdown,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Mode {
    Auto,
    Geometric,
    Detector,
}

impl From<Mode> for pagewise_engine::LayoutMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Auto => Self::Auto,
            Mode::Geometric => Self::Geometric,
            Mode::Detector => Self::Detector,
        }
    }
}

fn main() -> ExitCode {
    // A worker started by this same executable serves its parent and exits here; otherwise files
    // are opened in such workers from now on (a crash in a parser costs one file, not the run).
    pagewise_engine::worker::enter();
    // Piped into `head` and the like: stop quietly when the reader goes away, as Unix tools do.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    pagewise_engine::tune_process();
    let cli = Cli::parse();
    let library_dir = match cli.library.clone().map(Ok).unwrap_or_else(pagewise_engine::Library::default_dir) {
        Ok(dir) => dir,
        Err(e) => return context::fail(cli.json, &e),
    };
    let password = match cli.password_stdin {
        true => match password::from_stdin() {
            Ok(password) => Some(password),
            Err(e) => return context::fail(cli.json, &e),
        },
        false => cli.password.clone(),
    };
    let ctx = Ctx { library_dir, json: cli.json, password };
    let result = match cli.command {
        Command::Add { paths, no_ocr } => commands::add(
            &ctx,
            &paths,
            pagewise_engine::AddOptions { password: ctx.password.clone(), skip_ocr: no_ocr },
        ),
        Command::List { limit, offset } => commands::list(&ctx, offset, limit),
        Command::Show { doc } => commands::show(&ctx, &doc),
        Command::Text { doc, page, reader: ReaderKind::Ocr, save, .. } => commands::text_by_ocr(&ctx, &doc, page, save),
        Command::Text { doc, page, reader: ReaderKind::Vlm, save, dtype, .. } => {
            commands::text_by_vlm(&ctx, &doc, page, save, dtype.engine())
        }
        Command::Text { doc, page, format: TextFormat::Plain, .. } => commands::text(&ctx, &doc, page),
        Command::Text { doc, page, format: TextFormat::Markdown, .. } => layout_cmd::markdown(&ctx, &doc, page),
        Command::Layout { doc, page, mode } => layout_cmd::layout(&ctx, &doc, page, mode.into()),
        Command::Tables { doc, page, csv, mode } => layout_cmd::tables(&ctx, &doc, page, csv.as_deref(), mode.into()),
        Command::Render { doc, page, dpi, output, overlay, original } => {
            let drawn = if original { commands::Drawn::Original } else { commands::Drawn::Page(overlay) };
            commands::render(&ctx, &doc, page, dpi, &output, drawn)
        }
        Command::Thumbnail { doc, page } => commands::thumbnail(&ctx, &doc, page),
        Command::Ask { doc, question, page, engine, max_pixels, dtype } => {
            ask_cmd::ask(&ctx, &doc, &question, page, engine, max_pixels, dtype)
        }
        Command::Extract { docs, schema, csv, with_evidence, excel, force, engine, dtype } => extract_cmd::extract(
            &ctx,
            &extract_cmd::ExtractArgs { docs, schema, csv, with_evidence, excel, force, engine, dtype },
        ),
        Command::Correct { doc, schema, field, value } => extract_cmd::correct(&ctx, &doc, &schema, &field, &value),
        Command::Schema { name } => extract_cmd::show_schema(&name),
        Command::Search { query, limit, offset, semantic } => commands::search(&ctx, &query, offset, limit, semantic),
        Command::Rm { doc } => commands::rm(&ctx, &doc),
        Command::Models { what } => models_cmd::run(&ctx, what),
    };
    match result {
        Ok(code) => code,
        Err(e) => context::fail(ctx.json, &e),
    }
}
