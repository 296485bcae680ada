//! `pagewise-dev`: the developer tools, on the engine the app and the `pagewise` command line
//! ship, but never shipped with them: `eval` scores Pagewise on evaluation sets with ground
//! truth (../shared/eval), `bench` measures its speed beside the reference runtimes, `fuzz`
//! feeds mutated files to the engine's readers of untrusted input. Data goes to stdout (human
//! text, or JSON with --json); errors go to stderr. Exit codes: 0 success, 1 when a set could
//! not be scored, a run failed or fuzzing found a crash, 2 usage error (or nothing to measure).

mod bench;
mod eval;
mod fit;
mod fuzz;
mod gen;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Arg, Parser, Subcommand};
use pagewise_engine::LayoutMode;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "pagewise-dev",
    version,
    about = "Pagewise developer tools: evaluation and benchmarks (never shipped)"
)]
// `pagewise eval` and `pagewise bench` took the CLI's --library and never read it (they work in a
// scratch library): accepted here too, so that their command lines run as they did.
#[command(arg(Arg::new("library").long("library").global(true).value_name("DIR").help(LIBRARY_HELP)))]
struct Cli {
    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score Pagewise on evaluation sets with ground truth (e.g. ../shared/eval/layout-*)
    Eval {
        #[arg(required = true)]
        sets: Vec<PathBuf>,
        /// Layout analyzer to score (auto: geometric on PDFs, on images the detector fused with the OCR lines)
        #[arg(long, default_value = "auto", value_parser = layout_modes())]
        mode: LayoutMode,
        /// Keep the imported documents in this library between runs (scans are read once; the
        /// field values stored there are reused until the extractor's version or the ranking's
        /// weights change)
        #[arg(long, value_name = "DIR")]
        imports: Option<PathBuf>,
        /// Beside Pagewise's layout on DocBank pages, PyMuPDF's (pymupdf4llm with
        /// pymupdf-layout, AGPL: measured only, from the venv `bash scripts/dev.sh
        /// pymupdf-reference` makes), scored by the same rule
        #[arg(long)]
        beside_pymupdf: bool,
    },
    /// Benchmarks
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
    /// Fit the ranking of answer candidates on training sets (writes assets/ranking/fields.json)
    FitRanker(fit::fields::FitArgs),
    /// Fit the key-values of forms read from pixels on sets with kv.json (writes assets/ranking/pairs.json)
    FitPairs(fit::forms::FitPairsArgs),
    /// Write a training set of made-up invoices (docs/*.pdf and fields.json) for fit-ranker
    GenInvoices(gen::GenArgs),
    /// Write made-up report pages with income statements and questions about their revenue per
    /// period (docs/*.pdf and qa.json), to check reading tables on unseen pages
    GenStatements(gen::GenArgs),
    /// Fuzz the engine's readers of untrusted files (image, pdf, schema, manifest, onnx, archive)
    Fuzz(fuzz::FuzzArgs),
}

const LIBRARY_HELP: &str =
    "Accepted as `pagewise` accepts it; eval and bench import into a scratch library of their own";

/// `--mode auto|geometric|detector`: the engine's layout modes by their own names.
fn layout_modes() -> impl TypedValueParser<Value = LayoutMode> {
    const MODES: [LayoutMode; 3] = [LayoutMode::Auto, LayoutMode::Geometric, LayoutMode::Detector];
    PossibleValuesParser::new(MODES.map(|m| m.as_str()))
        .map(|name| MODES.into_iter().find(|m| m.as_str() == name).expect("one of the possible values"))
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
    // As the shipped front ends do: the networks measured here run as they run there.
    pagewise_engine::tune_process();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval { sets, mode, imports, beside_pymupdf } => {
            eval::run(cli.json, &sets, mode, imports.as_deref(), beside_pymupdf)
        }
        Command::Bench { what } => bench::run(cli.json, what),
        Command::Fuzz(args) => fuzz::run(cli.json, args),
        Command::FitRanker(args) => fit::fields::run(cli.json, args),
        Command::FitPairs(args) => fit::forms::run(cli.json, args),
        Command::GenInvoices(args) => gen::run(cli.json, args),
        Command::GenStatements(args) => gen::run_statements(cli.json, args),
    };
    result.unwrap_or_else(|e| {
        // As `pagewise` reports an error: one line on stderr (JSON with --json), exit code 1.
        let line = if cli.json { json!({ "error": e.to_report() }).to_string() } else { format!("error: {e}") };
        eprintln!("{line}");
        ExitCode::from(1)
    })
}
