//! `pagewise`: the command line on the same engine as the desktop app. Data goes to stdout
//! (human text, or JSON with --json); errors and progress go to stderr. Exit codes: 0 success,
//! 1 when some inputs failed, 2 usage error.

mod bench;
mod commands;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "pagewise", version, about = "Local-first document analysis: import, read, search")]
pub struct Cli {
    /// Library directory (default: $PAGEWISE_LIBRARY, else the platform data directory)
    #[arg(long, global = true, value_name = "DIR")]
    library: Option<PathBuf>,
    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import files and folders (PDF, PNG, JPEG, TIFF, WebP); folders are walked
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Password for encrypted PDFs
        #[arg(long)]
        password: Option<String>,
    },
    /// List the documents in the library
    List,
    /// Show one document and its pages
    Show { doc: String },
    /// Print a document's text (words with boxes in --json)
    Text {
        doc: String,
        /// Only this page (1-based)
        #[arg(long)]
        page: Option<u32>,
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
    },
    /// Print the path of a page's cached thumbnail (rendered on first use)
    Thumbnail {
        doc: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Full-text search over every page in the library
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Remove a document (its pages, index entries and stored original)
    Rm { doc: String },
    /// Benchmarks
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
}

/// Shared by the commands: where the library is and how to print.
pub struct Ctx {
    pub library_dir: PathBuf,
    pub json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let library_dir = match cli.library.clone().map(Ok).unwrap_or_else(pagewise_engine::Library::default_dir) {
        Ok(dir) => dir,
        Err(e) => return commands::fail(cli.json, &e),
    };
    let ctx = Ctx { library_dir, json: cli.json };
    let result = match cli.command {
        Command::Add { paths, password } => commands::add(&ctx, &paths, password),
        Command::List => commands::list(&ctx),
        Command::Show { doc } => commands::show(&ctx, &doc),
        Command::Text { doc, page } => commands::text(&ctx, &doc, page),
        Command::Render { doc, page, dpi, output } => commands::render(&ctx, &doc, page, dpi, &output),
        Command::Thumbnail { doc, page } => commands::thumbnail(&ctx, &doc, page),
        Command::Search { query, limit } => commands::search(&ctx, &query, limit),
        Command::Rm { doc } => commands::rm(&ctx, &doc),
        Command::Bench { what } => bench::run(&ctx, what),
    };
    match result {
        Ok(code) => code,
        Err(e) => commands::fail(ctx.json, &e),
    }
}
