//! `pagewise bench vlm`: Qwen3-VL-2B at full size with random weights (speed does not depend on
//! the values) on a real page image: prefill tokens/s, time to first token, decode tokens/s and
//! peak memory; PyTorch (transformers on CPU) on the same config, image, token ids and token
//! count in the same run; and the memory-bandwidth ceiling for decoding (bytes of weights read
//! per token against this machine's measured read bandwidth).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use pagewise_engine::vlm::image_prep::PreprocessorConfig;
use pagewise_engine::vlm::qwen3_vl::{Config, Qwen3Vl};
use pagewise_engine::vlm::{generate, random_weights};
use pagewise_engine::{DType, Error, Result};
use serde_json::json;

use crate::bench::{peak_rss_kib, reset_peak_rss, run_reference};
use crate::Ctx;

const CONFIG: &str = include_str!("../../../models/configs/qwen3-vl-2b-instruct.config.json");

pub struct VlmBench {
    pub image: PathBuf,
    pub max_pixels: usize,
    pub tokens: usize,
    pub bf16: bool,
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

/// Prompt ids: a chat prefix, the image's placeholders, a question's worth of text ids.
fn prompt_ids(config: &Config, image_tokens: usize) -> Vec<u32> {
    let text = |n: usize, seed: u32| (0..n as u32).map(move |i| 1000 + (i * 7919 + seed) % 100_000);
    let mut ids: Vec<u32> = text(4, 1).collect();
    ids.push(config.vision_start_token_id);
    ids.extend(std::iter::repeat_n(config.image_token_id, image_tokens));
    ids.push(config.vision_end_token_id);
    ids.extend(text(40, 2));
    ids
}

pub fn run(ctx: &Ctx, bench: &VlmBench) -> Result<ExitCode> {
    let config = Config::parse("qwen3-vl-2b-instruct", CONFIG)?;
    let prep = PreprocessorConfig::qwen3_vl(65_536, bench.max_pixels);
    let image = image::open(&bench.image).map_err(|e| Error::Corrupt { path: bench.image.clone(), format: "image", detail: e.to_string() })?.to_rgb8();
    let patches = prep.patches(&image)?;
    let image_tokens = patches.grid_thw.iter().product::<usize>() / 4;
    let ids = prompt_ids(&config, image_tokens);
    let dtype = if bench.bf16 { DType::BF16 } else { DType::F32 };
    let bandwidth = read_bandwidth_gbs();

    let rss_before = reset_peak_rss();
    let started = Instant::now();
    let mut model = Qwen3Vl::load(config.clone(), random_weights::random_var_builder(dtype))?;
    let load_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let logits = model.prefill(&ids, Some(&patches), false)?;
    let mut next = generate::argmax(&logits)?;
    let first_token_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 1..bench.tokens {
        next = generate::argmax(&model.step(next)?)?;
    }
    let decode_s = started.elapsed().as_secs_f64();
    let peak_mib = peak_rss_kib() / 1024;
    drop(model);

    let t = &config.text_config;
    let text_params = t.num_hidden_layers
        * (2 * t.hidden_size * t.num_attention_heads * t.head_dim
            + 2 * t.hidden_size * t.num_key_value_heads * t.head_dim
            + 3 * t.hidden_size * t.intermediate_size)
        + t.vocab_size * t.hidden_size; // the output projection (tied to the embeddings)
    let bytes_per_token = text_params as f64 * if bench.bf16 { 2.0 } else { 4.0 };
    let ceiling = bandwidth * 1e9 / bytes_per_token;
    let decode_rate = (bench.tokens - 1) as f64 / decode_s;
    let ours = json!({
        "dtype": if bench.bf16 { "bf16" } else { "f32" },
        "load_s": load_s,
        "time_to_first_token_s": first_token_s,
        "prefill_tokens_per_s": ids.len() as f64 / first_token_s,
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
        std::fs::write(&config_path, CONFIG).map_err(|e| Error::Io { path: config_path.clone(), source: e })?;
        std::fs::write(&ids_path, serde_json::to_string(&ids).expect("ids")).map_err(|e| Error::Io { path: ids_path.clone(), source: e })?;
        let args: Vec<std::ffi::OsString> = vec![
            config_path.into(),
            ids_path.into(),
            bench.image.clone().into(),
            bench.max_pixels.to_string().into(),
            bench.tokens.to_string().into(),
            (if bench.bf16 { "bf16" } else { "f32" }).into(),
        ];
        run_reference(".venv-torch", "scripts/bench_vlm_torch.py", &args).unwrap_or_else(|e| json!({"error": e}))
    };

    let report = json!({
        "model": "Qwen3-VL-2B-Instruct config, random weights",
        "image": bench.image.display().to_string(),
        "grid_thw": patches.grid_thw,
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
    if ctx.json {
        println!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Qwen3-VL-2B (random weights, {}), page {} -> grid {:?}: {} prompt tokens ({} image), {} generated",
        ours["dtype"].as_str().unwrap_or(""),
        short(&bench.image),
        patches.grid_thw,
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
        "decode ceiling: {:.2} GB of weights per token at {:.1} GB/s read bandwidth = {:.2} tokens/s; Pagewise reaches {:.0}%",
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
