//! `pagewise-dev bench vlm`: Qwen3-VL-2B or PaddleOCR-VL at full size with random weights (speed does
//! not depend on the values) on a real page or region image: prefill tokens/s, time to first
//! token, decode tokens/s and peak memory; PyTorch (transformers on CPU) on the same config,
//! image, token ids and token count in the same run; and the memory-bandwidth ceiling for
//! decoding (bytes of weights read per token against this machine's measured read bandwidth).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use pagewise_engine::vlm::image_prep::PreprocessorConfig;
use pagewise_engine::vlm::paddleocr_vl::{self, PaddleNet};
use pagewise_engine::vlm::qwen3_vl::{Config, Qwen3Vl};
use pagewise_engine::vlm::{generate, random_weights, Precision};
use pagewise_engine::{Error, Result};
use serde_json::json;

use super::measure::{peak_rss_kib, reset_peak_rss, run_reference};

const QWEN3_VL: &str = include_str!("../../../../models/configs/qwen3-vl-2b-instruct.config.json");
const PADDLEOCR_VL: &str = include_str!("../../../../models/configs/paddleocr-vl.config.json");

#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum BenchModel {
    /// Qwen3-VL-2B-Instruct (visual question answering)
    Qwen3Vl,
    /// PaddleOCR-VL 0.9B (the OCR-free reader; give it a region or a page)
    PaddleocrVl,
}

impl BenchModel {
    fn name(self) -> &'static str {
        match self {
            BenchModel::Qwen3Vl => "Qwen3-VL-2B",
            BenchModel::PaddleocrVl => "PaddleOCR-VL",
        }
    }
}

pub struct VlmBench {
    pub model: BenchModel,
    pub image: PathBuf,
    pub max_pixels: usize,
    pub tokens: usize,
    pub precision: Precision,
    pub skip_reference: bool,
}

/// Read bandwidth of this machine (GB/s): summing a buffer far larger than the caches, on every
/// core, best of three.
fn read_bandwidth_gbs() -> f64 {
    use rayon::prelude::*;
    let data = vec![1u64; 1 << 28]; // 2 GiB
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let sum: u64 = data.par_chunks(1 << 16).map(|c| c.iter().copied().fold(0u64, u64::wrapping_add)).sum();
            std::hint::black_box(sum);
            (data.len() * 8) as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// Prompt ids: a chat prefix, the image's placeholders between their start and end tokens, then
/// `after` text ids (a question, or a task prompt).
fn prompt_ids(start: u32, image: u32, end: u32, image_tokens: usize, after: usize) -> Vec<u32> {
    let text = |n: usize, seed: u32| (0..n as u32).map(move |i| 1000 + (i * 7919 + seed) % 99_000);
    let mut ids: Vec<u32> = text(4, 1).collect();
    ids.push(start);
    ids.extend(std::iter::repeat_n(image, image_tokens));
    ids.push(end);
    ids.extend(text(after, 2));
    ids
}

/// Weights a decoding step reads: the attention and MLP projections of every layer and the output
/// projection, from a language model's config (Qwen3-VL's text config and PaddleOCR-VL's config
/// are two types that name these fields alike).
macro_rules! decode_params {
    ($config:expr) => {{
        let t = $config;
        let hidden = t.hidden_size;
        t.num_hidden_layers
            * (2 * hidden * t.num_attention_heads * t.head_dim
                + 2 * hidden * t.num_key_value_heads * t.head_dim
                + 3 * hidden * t.intermediate_size)
            + t.vocab_size * hidden
    }};
}

/// What a run measured: seconds to load, to the first token, and for the other tokens.
struct Run {
    load_s: f64,
    first_token_s: f64,
    decode_s: f64,
}

/// The image's grid, the prompt ids and the weights read per decoded token, for `model`.
fn prepare(model: BenchModel, image: &image::RgbImage, max_pixels: usize) -> Result<([usize; 3], Vec<u32>, usize)> {
    // The grid, the image's start, placeholder and end token ids, the text ids after the image,
    // and the weights read per token.
    let (grid, [start, placeholder, end], after, params) = match model {
        BenchModel::Qwen3Vl => {
            let c = Config::parse("qwen3-vl-2b-instruct", QWEN3_VL)?;
            let grid = PreprocessorConfig::qwen3_vl(65_536, max_pixels).patches(image)?.grid_thw;
            // The output projection is tied to the embeddings but read all the same.
            (
                grid,
                [c.vision_start_token_id, c.image_token_id, c.vision_end_token_id],
                40,
                decode_params!(&c.text_config),
            )
        }
        BenchModel::PaddleocrVl => {
            let c = paddleocr_vl::parse_config("paddleocr-vl", PADDLEOCR_VL)?;
            let grid = PreprocessorConfig::paddleocr_vl(147_384, max_pixels).pixels(image)?.grid_thw;
            (grid, [c.vision_start_token_id, c.image_token_id, c.vision_end_token_id], 6, decode_params!(&c))
        }
    };
    let ids = prompt_ids(start, placeholder, end, grid.iter().product::<usize>() / 4, after);
    Ok((grid, ids, params))
}

/// Builds the model with random weights, prefills `ids` with the image and decodes `tokens`.
fn measure(
    model: BenchModel,
    image: &image::RgbImage,
    max_pixels: usize,
    ids: &[u32],
    tokens: usize,
    precision: Precision,
) -> Result<Run> {
    let dtype = precision.dtype();
    let started = Instant::now();
    match model {
        BenchModel::Qwen3Vl => {
            let patches = PreprocessorConfig::qwen3_vl(65_536, max_pixels).patches(image)?;
            let mut m = Qwen3Vl::load(
                Config::parse("qwen3-vl-2b-instruct", QWEN3_VL)?,
                random_weights::random_var_builder(dtype),
                precision,
            )?;
            let load_s = started.elapsed().as_secs_f64();
            time_generation(load_s, tokens, |last| {
                generate::argmax(&match last {
                    None => m.prefill(ids, Some(&patches), false)?,
                    Some(token) => m.step(token)?,
                })
            })
        }
        BenchModel::PaddleocrVl => {
            let pixels = PreprocessorConfig::paddleocr_vl(147_384, max_pixels).pixels(image)?;
            let config = paddleocr_vl::parse_config("paddleocr-vl", PADDLEOCR_VL)?;
            let mut m = PaddleNet::new(config, random_weights::random_var_builder(dtype), precision)
                .map_err(|e| Error::Model { model: "bench".into(), detail: e.to_string() })?;
            let load_s = started.elapsed().as_secs_f64();
            time_generation(load_s, tokens, |last| {
                generate::argmax(&match last {
                    None => m.prefill(ids, &pixels)?,
                    Some(token) => m.step(token)?,
                })
            })
        }
    }
}

/// Times a greedy generation of `tokens` tokens: `next(None)` prefills and gives the first token,
/// `next(Some(token))` decodes the one after `token`.
fn time_generation(load_s: f64, tokens: usize, mut next: impl FnMut(Option<u32>) -> Result<u32>) -> Result<Run> {
    let started = Instant::now();
    let mut token = next(None)?;
    let first_token_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 1..tokens {
        token = next(Some(token))?;
    }
    Ok(Run { load_s, first_token_s, decode_s: started.elapsed().as_secs_f64() })
}

pub fn run(json: bool, bench: &VlmBench) -> Result<ExitCode> {
    let image = image::open(&bench.image)
        .map_err(|e| Error::Corrupt { path: bench.image.clone(), format: "image", detail: e.to_string() })?
        .to_rgb8();
    let (grid, ids, params) = prepare(bench.model, &image, bench.max_pixels)?;
    let image_tokens = grid.iter().product::<usize>() / 4;
    let weights = bench.precision.name();
    let bandwidth = read_bandwidth_gbs();

    let rss_before = reset_peak_rss();
    let run = measure(bench.model, &image, bench.max_pixels, &ids, bench.tokens, bench.precision)?;
    let peak_mib = peak_rss_kib() / 1024;

    let bytes_per_token = params as f64 * bench.precision.decoder_bytes_per_weight();
    let ceiling = bandwidth * 1e9 / bytes_per_token;
    let decode_rate = (bench.tokens - 1) as f64 / run.decode_s;
    let ours = json!({
        "dtype": weights,
        "load_s": run.load_s,
        "time_to_first_token_s": run.first_token_s,
        "prefill_tokens_per_s": ids.len() as f64 / run.first_token_s,
        "decode_tokens_per_s": decode_rate,
        "peak_rss_mib": peak_mib,
        "rss_before_mib": rss_before / 1024,
    });

    let reference = if bench.skip_reference {
        json!({"skipped": "--no-reference"})
    } else {
        let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
        let config_path = scratch.path().join("config.json");
        let ids_path = scratch.path().join("ids.json");
        let config = if bench.model == BenchModel::Qwen3Vl { QWEN3_VL } else { PADDLEOCR_VL };
        std::fs::write(&config_path, config).map_err(|e| Error::Io { path: config_path.clone(), source: e })?;
        std::fs::write(&ids_path, serde_json::to_string(&ids).expect("ids"))
            .map_err(|e| Error::Io { path: ids_path.clone(), source: e })?;
        let args: Vec<std::ffi::OsString> = vec![
            (if bench.model == BenchModel::Qwen3Vl { "qwen3_vl" } else { "paddleocr_vl" }).into(),
            config_path.into(),
            ids_path.into(),
            bench.image.clone().into(),
            bench.max_pixels.to_string().into(),
            bench.tokens.to_string().into(),
            weights.into(),
        ];
        run_reference(".venv-torch", "scripts/bench_vlm_torch.py", &args).unwrap_or_else(|e| json!({"error": e}))
    };

    let report = json!({
        "model": format!("{} config, random weights", bench.model.name()),
        "image": bench.image.display().to_string(),
        "grid_thw": grid,
        "prompt_tokens": ids.len(),
        "image_tokens": image_tokens,
        "generated_tokens": bench.tokens,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "pagewise": ours,
        "pytorch": reference,
        "read_bandwidth_gb_s": bandwidth,
        "decode_bytes_per_token_gb": bytes_per_token / 1e9,
        "decode_ceiling_tokens_per_s": ceiling,
    });
    if json {
        println!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} (random weights, {}), image {} -> grid {:?}: {} prompt tokens ({} image), {} generated",
        bench.model.name(),
        ours["dtype"].as_str().unwrap_or(""),
        short(&bench.image),
        grid,
        ids.len(),
        image_tokens,
        bench.tokens
    );
    println!("{:<10} {:>12} {:>14} {:>14} {:>10}", "", "first token", "prefill tok/s", "decode tok/s", "peak MiB");
    for (name, r) in [("pagewise", &report["pagewise"]), ("pytorch", &report["pytorch"])] {
        if let Some(e) = r.get("error").or(r.get("skipped")) {
            println!("{name:<10} {}", e.as_str().unwrap_or(""));
            continue;
        }
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "{name:<10} {:>10.2} s {:>14.1} {:>14.3} {:>10}",
            f("time_to_first_token_s"),
            f("prefill_tokens_per_s"),
            f("decode_tokens_per_s"),
            r["peak_rss_mib"]
        );
    }
    println!(
        "decode ceiling: {:.2} GB of weights per token at {:.1} GB/s read bandwidth = {:.2} tokens/s; \
         Pagewise reaches {:.0}%",
        bytes_per_token / 1e9,
        bandwidth,
        ceiling,
        100.0 * decode_rate / ceiling
    );
    Ok(ExitCode::SUCCESS)
}

fn short(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
