//! Vision-language models on candle: a page image and a prompt in, text out, token by token.
//!
//! - [`image_prep`]: the image processor (smart resize, PIL bicubic, patches).
//! - [`prompt`]: the model's chat template and tokenizer.
//! - [`qwen3_vl`]: Qwen3-VL (visual question answering).
//! - [`paddleocr_vl`]: PaddleOCR-VL (OCR-free reading; `read::vlm` reads a page region by
//!   region with it).
//! - [`decoder`]: their language models (Llama-style layers, multimodal rotary positions).
//! - [`generate`]: greedy decoding, repetition loops cut; [`matvec`]: the decoding kernel.
//! - [`vit`]: pieces the vision encoders share.
//! - [`random_weights`]: full-size models with random weights, for benchmarks.
//!
//! A model is a folder as the hub has it (config.json, preprocessor_config.json, tokenizer.json,
//! a chat template, *.safetensors); `models::hub` installs and finds it.

pub mod decoder;
pub mod generate;
pub mod image_prep;
pub mod matvec;
pub mod paddleocr_vl;
pub mod prompt;
pub mod qwen3_vl;
#[cfg(feature = "dev-api")] // full-size models with random weights: `pagewise-dev bench vlm`
pub mod random_weights;
pub mod vit;

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use image::RgbImage;

use crate::{Error, Result};
use image_prep::PreprocessorConfig;
use prompt::{Part, Prompter};
use qwen3_vl::{Config, Qwen3Vl};

/// Where the vision-language models run: the first CUDA or Metal GPU when Pagewise was built
/// with the `cuda` or `metal` feature and one is there (`PAGEWISE_DEVICE=cpu` keeps them on the
/// CPU), else the CPU. On a GPU candle's own kernels run everything (the CPU kernels of
/// [`matvec`] and [`vit`] step aside) and `q8` keeps the weights as loaded.
pub fn device() -> Device {
    if std::env::var("PAGEWISE_DEVICE").is_ok_and(|d| d == "cpu") {
        return Device::Cpu;
    }
    // Both fail in a build without the feature.
    Device::new_cuda(0).or_else(|_| Device::new_metal(0)).unwrap_or(Device::Cpu)
}

/// How a model's weights are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Precision {
    F32,
    /// Half of f32's memory; decoding reads half the bytes, but prefill is slow (candle's bf16
    /// matrix product).
    Bf16,
    /// The language model's weights in 8 bits ([`matvec::Q8Matrix`]), brought there layer by
    /// layer as they load; the rest in f32. Decoding reads about a quarter of f32's bytes per
    /// token.
    Q8,
}

impl Precision {
    /// The dtype the weights are loaded in.
    pub fn dtype(self) -> DType {
        match self {
            Precision::Bf16 => DType::BF16,
            Precision::F32 | Precision::Q8 => DType::F32,
        }
    }

    /// Bytes a weight of the language model's layers takes in memory (and is read per decoded
    /// token): at Q8 a byte and its share of the block's f32 scale.
    pub fn decoder_bytes_per_weight(self) -> f64 {
        match self {
            Precision::Q8 => 1.0 + 4.0 / matvec::Q8_BLOCK as f64,
            _ => self.dtype().size_in_bytes() as f64,
        }
    }

    /// Its name, as `--dtype` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::Q8 => "q8",
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    EndOfText,
    TokenLimit,
    /// A repetition loop was detected and cut.
    Loop,
    Cancelled,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Generation {
    pub text: String,
    pub tokens: Vec<u32>,
    pub stop: Stop,
    pub prompt_tokens: usize,
    pub image_tokens: usize,
    pub prefill_ms: f64,
    pub decode_ms: f64,
}

/// Qwen3-VL loaded from a model folder, with its processor and prompt.
pub struct Vlm {
    name: String,
    model: Qwen3Vl,
    prep: PreprocessorConfig,
    prompter: Prompter,
    stop_tokens: Vec<u32>,
}

fn read_json<T: serde::de::DeserializeOwned>(model: &str, path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Model { model: model.into(), detail: format!("{}: {e}", path.display()) })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Model { model: model.into(), detail: format!("{}: {e}", path.display()) })
}

/// The model's weight files (one `model.safetensors` or the shards).
fn weight_files(model: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Model { model: model.into(), detail: format!("{}: {e}", dir.display()) })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Model {
            model: model.into(),
            detail: format!("no .safetensors weights in {}", dir.display()),
        });
    }
    Ok(files)
}

/// Bytes the weights take once loaded at `precision` (candle copies them out of the mapping): at
/// Q8 the language model's layer matrices take a byte and an eighth per weight.
fn loaded_bytes(weights: &candle_core::safetensors::MmapedSafetensors, precision: Precision) -> u64 {
    let per_weight = precision.dtype().size_in_bytes() as f64;
    let decoder_matrix =
        |name: &str| name.contains("layers.") && name.ends_with("proj.weight") && !name.contains("visual");
    let bytes: f64 = weights
        .tensors()
        .iter()
        .map(|(name, view)| {
            view.shape().iter().product::<usize>() as f64
                * if decoder_matrix(name) { precision.decoder_bytes_per_weight() } else { per_weight }
        })
        .sum();
    bytes as u64
}

/// Refuses to load weights that will not fit in the memory available now.
fn check_memory(model: &str, bytes: u64) -> Result<()> {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024);
    match available {
        Some(free) if bytes > free => Err(Error::NotEnoughMemory {
            model: model.into(),
            needed_gb: bytes as f64 / 1e9,
            available_gb: free as f64 / 1e9,
        }),
        _ => Ok(()),
    }
}

impl Vlm {
    /// Loads the installed Qwen3-VL named `name` in the model manifests (`ModelMissing` when it
    /// is not downloaded).
    pub fn load_installed(name: &str, precision: Precision) -> Result<Vlm> {
        let manifest = crate::models::hub_model(name)?;
        let dir = crate::models::hub::installed_dir(&crate::models::models_dir(), &manifest)?;
        Vlm::load(name, &dir, precision)
    }

    /// Loads a Qwen3-VL folder at `precision` on [`device`].
    pub fn load(name: &str, dir: &Path, precision: Precision) -> Result<Vlm> {
        let dtype = precision.dtype();
        let config = Config::parse(
            name,
            &std::fs::read_to_string(dir.join("config.json"))
                .map_err(|e| Error::Model { model: name.into(), detail: format!("config.json: {e}") })?,
        )?;
        let prep: PreprocessorConfig = read_json(name, &dir.join("preprocessor_config.json"))?;
        if prep.merge_size != config.vision_config.spatial_merge_size
            || prep.patch_size != config.vision_config.patch_size
        {
            return Err(Error::Model {
                model: name.into(),
                detail: "preprocessor_config.json and config.json disagree on patch or merge size".into(),
            });
        }
        let prompter = Prompter::load(name, dir, "<|image_pad|>", prep.merge_size)?;
        let files = weight_files(name, dir)?;
        // SAFETY: the weight files are memory-mapped read-only; the installed model's files are
        // not modified while Pagewise runs (installs replace the folder by renaming).
        let weights = unsafe { candle_core::safetensors::MmapedSafetensors::multi(&files) }
            .map_err(|e| Error::Model { model: name.into(), detail: format!("weights: {e}") })?;
        let device = device();
        if device.is_cpu() {
            check_memory(name, loaded_bytes(&weights, precision))?;
        }
        let vb = VarBuilder::from_backend(Box::new(weights), dtype, device);
        let model = Qwen3Vl::load(config, vb, precision).map_err(|e| match e {
            Error::Model { detail, .. } => {
                Error::Model { model: name.into(), detail: format!("weights do not match config.json ({detail})") }
            }
            other => other,
        })?;
        let stop_tokens = ["<|im_end|>", "<|endoftext|>"].iter().filter_map(|t| prompter.token_id(t)).collect();
        Ok(Vlm { name: name.into(), model, prep, prompter, stop_tokens })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn prompter(&self) -> &Prompter {
        &self.prompter
    }

    pub fn preprocessor(&self) -> &PreprocessorConfig {
        &self.prep
    }

    pub fn model_mut(&mut self) -> &mut Qwen3Vl {
        &mut self.model
    }

    /// Answers `text` about `image`, greedily, calling `on_text` with each new piece of text;
    /// `on_text` returning false cancels.
    pub fn generate(
        &mut self,
        image: Option<&RgbImage>,
        text: &str,
        max_tokens: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let patches = image.map(|i| self.prep.patches(i)).transpose()?;
        let mut parts = Vec::new();
        if patches.is_some() {
            parts.push(Part::Image);
        }
        parts.push(Part::Text(text.to_string()));
        let prompt = self.prompter.render(&parts)?;
        let grids: Vec<[usize; 3]> = patches.iter().map(|p| p.grid_thw).collect();
        let ids = self.prompter.encode(&prompt, &grids)?;
        let image_tokens = ids.iter().filter(|&&t| t == self.model.config.image_token_id).count();

        let started = Instant::now();
        let logits = self.model.prefill(&ids, patches.as_ref(), false)?;
        let prefill_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let model = &mut self.model;
        let (tokens, stop) =
            generate::decode(&logits, |t| model.step(t), &self.stop_tokens, &self.prompter, max_tokens, on_text)?;
        let text = self.prompter.decode(&tokens, true);
        Ok(Generation {
            text,
            tokens,
            stop,
            prompt_tokens: ids.len(),
            image_tokens,
            prefill_ms,
            decode_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }
}
