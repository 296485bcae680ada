//! PaddleOCR-VL (0.9B): an image of a page region and a task prompt in, its text out (plain text,
//! a table as OTSL/HTML, a formula as LaTeX, a chart as a data table). The network is
//! candle-transformers' `paddleocr_vl` (a NaViT-style SigLIP encoder, a 2×2 merging projector and
//! ERNIE-4.5-0.3B with 3-D rotary positions); this module gives it the hub folder's processor,
//! chat template and tokenizer, and the decoding loop shared with Qwen3-VL. The reference
//! implementation (transformers, tests/vlm_parity.rs) is what this answers to.

use std::path::Path;
use std::time::Instant;

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use candle_transformers::models::paddleocr_vl::{Config, PaddleOCRVLModel};
use image::RgbImage;

use super::image_prep::{Pixels, PreprocessorConfig};
use super::prompt::{Part, Prompter};
use super::{check_memory, generate, loaded_bytes, read_json, weight_files, Generation};
use crate::{Error, Result};

/// What to read a region as: the model's own task prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Text,
    Table,
    Formula,
    Chart,
}

impl Task {
    pub fn prompt(self) -> &'static str {
        match self {
            Task::Text => "OCR:",
            Task::Table => "Table Recognition:",
            Task::Formula => "Formula Recognition:",
            Task::Chart => "Chart Recognition:",
        }
    }
}

pub const IMAGE_TOKEN: &str = "<|IMAGE_PLACEHOLDER|>";

/// The manifest name of the reader model.
pub const MODEL: &str = "paddleocr-vl";

/// Loads the installed PaddleOCR-VL, or says which command installs it.
pub fn load_installed(dtype: DType) -> Result<PaddleOcrVl> {
    let manifest = crate::models::hub_model(MODEL)?;
    let dir = crate::models::hub::installed_dir(&crate::models::models_dir(), &manifest)?;
    PaddleOcrVl::load(MODEL, &dir, dtype)
}

pub struct PaddleOcrVl {
    name: String,
    model: PaddleOCRVLModel,
    pub config: Config,
    prep: PreprocessorConfig,
    prompter: Prompter,
    stop_tokens: Vec<u32>,
    dtype: DType,
}

fn model_error(model: &str, e: impl std::fmt::Display) -> Error {
    Error::Model { model: model.into(), detail: e.to_string() }
}

/// The hub's weights, except that the encoder's unused `packing_position_embedding` (a 32,768-row
/// table transformers drops on load) may be absent: it is then zeros.
struct HubWeights(MmapedSafetensors);

impl SimpleBackend for HubWeights {
    fn get(&self, shape: Shape, name: &str, init: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        if name.contains("packing_position_embedding") && !self.0.contains_tensor(name) {
            return Tensor::zeros(shape, dtype, dev);
        }
        SimpleBackend::get(&self.0, shape, name, init, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        SimpleBackend::get_unchecked(&self.0, name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains_tensor(name) || name.contains("packing_position_embedding")
    }
}

/// Parses config.json, refusing another architecture or a layout this code does not know.
pub fn parse_config(model: &str, text: &str) -> Result<Config> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| model_error(model, format!("config.json: {e}")))?;
    match value.get("model_type").and_then(|t| t.as_str()) {
        Some("paddleocr_vl") | None => {}
        Some(other) => return Err(model_error(model, format!("config.json describes a {other} model, not PaddleOCR-VL"))),
    }
    if value.get("text_config").is_some() {
        return Err(model_error(
            model,
            "config.json nests the text model (text_config), a layout newer than this Pagewise reads; use the hub's PaddleOCR-VL folder",
        ));
    }
    let config: Config = serde_json::from_value(value).map_err(|e| model_error(model, format!("config.json: {e}")))?;
    let rope_half = config.rope_scaling.as_ref().map(|r| r.mrope_section.iter().sum::<usize>());
    if rope_half.is_some_and(|h| h * 2 != config.head_dim) {
        return Err(model_error(model, "config.json: mrope_section does not cover head_dim"));
    }
    Ok(config)
}

impl PaddleOcrVl {
    /// Loads a PaddleOCR-VL folder in `dtype` (F32 or BF16) on the CPU.
    pub fn load(name: &str, dir: &Path, dtype: DType) -> Result<PaddleOcrVl> {
        let text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| model_error(name, format!("config.json: {e}")))?;
        let config = parse_config(name, &text)?;
        let files = weight_files(name, dir)?;
        // SAFETY: the weight files are memory-mapped read-only; installs replace a model's folder
        // by renaming, never by writing into it.
        let weights = unsafe { MmapedSafetensors::multi(&files) }.map_err(|e| model_error(name, format!("weights: {e}")))?;
        check_memory(name, loaded_bytes(&weights, dtype))?;
        let vb = VarBuilder::from_backend(Box::new(HubWeights(weights)), dtype, Device::Cpu);
        Self::build(name, dir, config, vb)
    }

    /// The model from `config` with the weights `vb` gives (random ones for benchmarks), and the
    /// processor, template and tokenizer of the folder `dir`.
    pub fn build(name: &str, dir: &Path, config: Config, vb: VarBuilder) -> Result<PaddleOcrVl> {
        let prep: PreprocessorConfig = read_json(name, &dir.join("preprocessor_config.json"))?;
        if prep.merge_size != config.vision_config.spatial_merge_size || prep.patch_size != config.vision_config.patch_size {
            return Err(model_error(name, "preprocessor_config.json and config.json disagree on patch or merge size"));
        }
        let prompter = Prompter::load(name, dir, IMAGE_TOKEN, prep.merge_size)?;
        let model = PaddleOCRVLModel::new(&config, vb.clone()).map_err(|e| model_error(name, format!("weights do not match config.json ({e})")))?;
        let mut stop_tokens: Vec<u32> = ["</s>", "<|end_of_sentence|>"].iter().filter_map(|t| prompter.token_id(t)).collect();
        if let Ok(generation) = read_json::<serde_json::Value>(name, &dir.join("generation_config.json")) {
            let ids = generation.get("eos_token_id").cloned().unwrap_or_default();
            let ids = if ids.is_array() { ids } else { serde_json::Value::Array(vec![ids]) };
            stop_tokens.extend(ids.as_array().into_iter().flatten().filter_map(|v| v.as_u64()).map(|v| v as u32));
        }
        Ok(PaddleOcrVl { name: name.into(), model, config, prep, prompter, stop_tokens, dtype: vb.dtype() })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn preprocessor(&self) -> &PreprocessorConfig {
        &self.prep
    }

    pub fn prompter(&self) -> &Prompter {
        &self.prompter
    }

    /// The prompt's token ids for an image of `grid` and a task.
    pub fn prompt_ids(&self, grid: [usize; 3], task: Task) -> Result<Vec<u32>> {
        let prompt = self.prompter.render(&[Part::Image, Part::Text(task.prompt().into())])?;
        self.prompter.encode(&prompt, &[grid])
    }

    fn image_tensors(&self, pixels: &Pixels) -> candle_core::Result<(Tensor, Tensor)> {
        let image = Tensor::from_slice(&pixels.values, (1, 3, pixels.height, pixels.width), &Device::Cpu)?.to_dtype(self.dtype)?;
        let grid: Vec<u32> = pixels.grid_thw.iter().map(|&g| g as u32).collect();
        Ok((image, Tensor::from_vec(grid, (1, 3), &Device::Cpu)?))
    }

    /// The image's embeddings as the language model receives them (one per merged patch).
    pub fn encode_image(&self, pixels: &Pixels) -> Result<Tensor> {
        let (image, grid) = self.image_tensors(pixels).map_err(|e| model_error(&self.name, e))?;
        self.model.encode_image(&image, &grid).map_err(|e| model_error(&self.name, e))
    }

    /// The last position's logits after the prompt (the KV cache then holds the prompt).
    pub fn prefill(&mut self, ids: &[u32], pixels: &Pixels) -> Result<Tensor> {
        let e = |e: candle_core::Error| model_error(&self.name, e);
        let ids_t = Tensor::new(ids, &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(e)?;
        let (image, grid) = self.image_tensors(pixels).map_err(e)?;
        self.model.clear_kv_cache();
        self.model.forward(&ids_t, Some(&image), Some(&grid), 0).map_err(e)
    }

    /// The next logits after feeding `token` at sequence position `position`.
    pub fn step(&mut self, token: u32, position: usize) -> Result<Tensor> {
        step(&mut self.model, &self.name, token, position)
    }

    /// Reads `image` as `task`, greedily, calling `on_text` with each new piece of text;
    /// `on_text` returning false cancels.
    pub fn read(&mut self, image: &RgbImage, task: Task, max_tokens: usize, on_text: &mut dyn FnMut(&str) -> bool) -> Result<Generation> {
        let pixels = self.prep.pixels(image)?;
        let ids = self.prompt_ids(pixels.grid_thw, task)?;
        let image_tokens = ids.iter().filter(|&&t| t == self.config.image_token_id).count();
        let started = Instant::now();
        let logits = self.prefill(&ids, &pixels)?;
        let prefill_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let mut position = ids.len();
        let stop_tokens = self.stop_tokens.clone();
        let (tokens, stop) = {
            let (model, name) = (&mut self.model, &self.name);
            let next = |t| {
                position += 1;
                step(model, name, t, position - 1)
            };
            generate::decode(&logits, next, &stop_tokens, &self.prompter, max_tokens, on_text)?
        };
        let text = self.prompter.decode(&tokens, true);
        Ok(Generation { text, tokens, stop, prompt_tokens: ids.len(), image_tokens, prefill_ms, decode_ms: started.elapsed().as_secs_f64() * 1e3 })
    }
}

fn step(model: &mut PaddleOCRVLModel, name: &str, token: u32, position: usize) -> Result<Tensor> {
    let ids = Tensor::new(&[[token]], &Device::Cpu).map_err(|e| model_error(name, e))?;
    model.forward(&ids, None, None, position).map_err(|e| model_error(name, e))
}
