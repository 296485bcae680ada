//! `pagewise-dev bench ...`: the benchmarks, one module each; what they share (peak memory,
//! the reference runtimes) is in `measure`.

mod ask;
mod ingest;
mod layout;
mod library;
pub mod measure;
mod ocr;
mod straighten;
mod vlm;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use pagewise_engine::Result;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Import speed against pdfium's raw text extraction on the same PDFs
    Ingest {
        /// PDF files or folders
        paths: Vec<PathBuf>,
        /// Also ingest generated two-column articles of these page counts (e.g. 100,1000),
        /// reporting peak memory after each, to show memory stays flat in the page count
        #[arg(long, value_delimiter = ',')]
        synthetic: Vec<u32>,
        /// Runs of each measurement; the best is reported
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
    /// A large generated library: import throughput per slice (first vs last), library list
    /// and full-text search p50/p95, and the first search by meaning on a subset
    Library {
        /// Documents in the library
        #[arg(long, default_value_t = 10_000)]
        docs: u32,
        /// Pages per document
        #[arg(long, default_value_t = 10)]
        pages: u32,
        /// Where the library is built and kept (a rerun imports only what it lacks)
        #[arg(long)]
        library: PathBuf,
        /// Documents per import slice
        #[arg(long, default_value_t = 1000)]
        slice: u32,
        /// Measure the first search by meaning on a library of this many of the documents
        /// (0: not at all); it embeds every page of them
        #[arg(long, default_value_t = 200)]
        semantic_docs: u32,
        /// Runs of each list and search measurement
        #[arg(long, default_value_t = 40)]
        repeat: usize,
    },
    /// OCR speed: seconds per page image in detection, orientation and recognition, beside
    /// RapidOCR on onnxruntime with the same models and images; peak memory
    Ocr {
        /// Page images or folders of them
        paths: Vec<PathBuf>,
        /// At most this many images
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Question latency (p50/p95) on imported, analysed documents, and extraction documents/s
    Ask {
        /// Documents or folders (invoices make the default questions meaningful)
        paths: Vec<PathBuf>,
        /// Passes over every document and question
        #[arg(long, default_value_t = 5)]
        repeat: u32,
    },
    /// Vision-language model speed: Qwen3-VL-2B or PaddleOCR-VL at full size with random weights
    /// on a page or region image (prefill, first token, decode, peak memory) beside PyTorch, and
    /// the decode ceiling that memory bandwidth sets
    Vlm {
        /// A page (or region) image
        image: PathBuf,
        #[arg(long, value_enum, default_value_t = vlm::BenchModel::Qwen3Vl)]
        model: vlm::BenchModel,
        /// The page's pixel budget (256 image tokens by default; Qwen3-VL allows far more)
        #[arg(long, default_value_t = 262_144)]
        max_pixels: usize,
        /// Tokens to generate
        #[arg(long, default_value_t = 16)]
        tokens: usize,
        /// Weights in bf16 instead of f32
        #[arg(long, conflicts_with = "q8")]
        bf16: bool,
        /// The language model's weights in 8 bits (PyTorch: dynamic int8 quantisation)
        #[arg(long)]
        q8: bool,
        /// Do not run the PyTorch reference
        #[arg(long)]
        no_reference: bool,
    },
    /// Layout speed: the geometric analyzer (pages/s) and the detector (ms/page, beside
    /// onnxruntime on the same model and image)
    /// Finding the page in a photo of a document and straightening it (perspective), on a
    /// made-up photo
    Straighten {
        /// The photo's size in megapixels
        #[arg(long, default_value_t = 12.0)]
        megapixels: f32,
        #[arg(long, default_value_t = 5)]
        repeat: u32,
    },
    Layout {
        /// PDF files or folders for the geometric analyzer
        paths: Vec<PathBuf>,
        /// A page image for the detector
        #[arg(long)]
        image: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
}

pub fn run(json: bool, cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Ingest { paths, synthetic, repeat } => ingest::run(json, &paths, &synthetic, repeat),
        BenchCommand::Layout { paths, image, repeat } => layout::run(json, &paths, image, repeat),
        BenchCommand::Library { docs, pages, library, slice, semantic_docs, repeat } => {
            library::run(json, &library::LibraryBench { docs, pages, library, slice, semantic_docs, repeat })
        }
        BenchCommand::Ocr { paths, limit } => ocr::run(json, &paths, limit),
        BenchCommand::Ask { paths, repeat } => ask::run(json, &paths, repeat),
        BenchCommand::Straighten { megapixels, repeat } => straighten::run(json, megapixels, repeat),
        BenchCommand::Vlm { image, model, max_pixels, tokens, bf16, q8, no_reference } => {
            use pagewise_engine::vlm::Precision;
            let precision = if q8 {
                Precision::Q8
            } else if bf16 {
                Precision::Bf16
            } else {
                Precision::F32
            };
            let bench = vlm::VlmBench {
                model,
                image,
                max_pixels,
                tokens: tokens.max(2),
                precision,
                skip_reference: no_reference,
            };
            vlm::run(json, &bench)
        }
    }
}
