//! PaddleOCR-VL (0.9B): an image of a page region and a task prompt in, its text out (plain text,
//! a table as OTSL, a formula as LaTeX, a chart as a data table): the vision encoder and
//! projector ([`vision`]) and ERNIE-4.5-0.3B with sectioned 3-D rotary positions (the shared
//! [`super::decoder`]), with the hub folder's processor, chat template and tokenizer, and the
//! decoding loop shared with Qwen3-VL. candle-transformers 0.11's `paddleocr_vl` was the
//! starting point (its config is read as is) but runs at a third of PyTorch's prefill and half
//! its decoding speed and approximates the projector's GELU; the reference implementation
//! (transformers, tests/vlm_parity.rs) is what this answers to.

pub mod vision;

use std::path::Path;
use std::time::Instant;

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::paddleocr_vl::Config;
use image::RgbImage;

use super::decoder::{self, rope_positions, DecoderSpec, RopeLayout, TextModel};
use super::image_prep::{Pixels, PreprocessorConfig};
use super::prompt::{Part, Prompter};
use super::{check_memory, generate, loaded_bytes, read_json, weight_files, Generation, Precision};
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

/// The network: image and prompt ids in, logits out.
pub struct PaddleNet {
    vision: vision::VisionEncoder,
    text: TextModel,
    pub config: Config,
    dtype: DType,
    device: Device,
    /// Added to a generated token's index to get its rotary position.
    rope_delta: i64,
}

/// The network with the hub folder's processor, chat template, tokenizer and stop tokens.
pub struct PaddleOcrVl {
    name: String,
    pub net: PaddleNet,
    prep: PreprocessorConfig,
    prompter: Prompter,
    stop_tokens: Vec<u32>,
}

fn model_error(model: &str, e: impl std::fmt::Display) -> Error {
    Error::Model { model: model.into(), detail: e.to_string() }
}

/// ERNIE-4.5's shape from config.json.
fn decoder_spec(config: &Config) -> DecoderSpec {
    DecoderSpec {
        vocab_size: config.vocab_size,
        hidden_size: config.hidden_size,
        intermediate_size: config.intermediate_size,
        layers: config.num_hidden_layers,
        heads: config.num_attention_heads,
        kv_heads: config.num_key_value_heads,
        head_dim: config.head_dim,
        rms_norm_eps: config.layer_norm_eps,
        rope_theta: config.rope_theta,
        mrope_section: config
            .rope_scaling
            .as_ref()
            .map(|r| r.mrope_section.clone())
            .unwrap_or_else(|| vec![16, 24, 24]),
        rope_layout: RopeLayout::Sectioned,
        qk_norm: false,
        tie_word_embeddings: config.tie_word_embeddings,
        prefix: "model".into(),
    }
}

/// Parses config.json, refusing another architecture or a layout this code does not know.
pub fn parse_config(model: &str, text: &str) -> Result<Config> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| model_error(model, format!("config.json: {e}")))?;
    match value.get("model_type").and_then(|t| t.as_str()) {
        Some("paddleocr_vl") | None => {}
        Some(other) => {
            return Err(model_error(model, format!("config.json describes a {other} model, not PaddleOCR-VL")))
        }
    }
    if value.get("text_config").is_some() {
        return Err(model_error(
            model,
            "config.json nests the text model (text_config), a layout newer than this Pagewise reads; \
             use the hub's PaddleOCR-VL folder",
        ));
    }
    let config: Config = serde_json::from_value(value).map_err(|e| model_error(model, format!("config.json: {e}")))?;
    let rope_half = config.rope_scaling.as_ref().map(|r| r.mrope_section.iter().sum::<usize>());
    if rope_half.is_some_and(|h| h * 2 != config.head_dim) || rope_half.is_none() && config.head_dim != 128 {
        return Err(model_error(model, "config.json: mrope_section does not cover head_dim"));
    }
    if config.use_bias {
        return Err(model_error(model, "config.json: projections with biases (use_bias) are not supported"));
    }
    Ok(config)
}

fn net_error(e: impl std::fmt::Display) -> Error {
    model_error(MODEL, e)
}

impl PaddleNet {
    /// The network from `config` with the weights `vb` gives (the hub's names: `visual.*`,
    /// `mlp_AR.*`, `model.*`, `lm_head`); at [`Precision::Q8`] the language model's weights are
    /// brought to 8 bits as they load (`vb` then gives f32).
    pub fn new(config: Config, vb: VarBuilder, precision: Precision) -> candle_core::Result<PaddleNet> {
        let (dtype, vb_device) = (vb.dtype(), vb.device().clone());
        let vision = vision::VisionEncoder::new(&config, vb.clone())?;
        let text = TextModel::new(&decoder_spec(&config), vb, precision == Precision::Q8)?;
        Ok(PaddleNet { vision, text, config, dtype, device: vb_device, rope_delta: 0 })
    }

    /// The image's embeddings as the language model receives them (one per merged patch).
    pub fn encode_image(&self, pixels: &Pixels) -> Result<Tensor> {
        self.vision.forward(pixels, &self.device).map_err(net_error)
    }

    /// The last position's logits after the prompt (the KV cache then holds the prompt).
    pub fn prefill(&mut self, ids: &[u32], pixels: &Pixels) -> Result<Tensor> {
        let e = |e: candle_core::Error| net_error(e);
        let merge = self.config.vision_config.spatial_merge_size;
        let (positions, delta) = rope_positions(ids, self.config.image_token_id, &[pixels.grid_thw], merge)?;
        self.rope_delta = delta;
        self.text.clear_cache();
        let ids_t = Tensor::new(ids, &self.device).and_then(|t| t.unsqueeze(0)).map_err(e)?;
        let embeds = self.text.embed(&ids_t).map_err(e)?;
        let image = self.encode_image(pixels)?.to_dtype(self.dtype).map_err(e)?;
        let at: Vec<usize> =
            ids.iter().enumerate().filter(|(_, &t)| t == self.config.image_token_id).map(|(i, _)| i).collect();
        if image.dim(0).map_err(e)? != at.len() {
            return Err(net_error(format!(
                "{} image tokens in the prompt for {} image features",
                at.len(),
                image.dims()[0]
            )));
        }
        // The placeholders' embeddings are replaced by the image's: subtract, then add.
        let index =
            Tensor::new(at.iter().map(|&i| i as u32).collect::<Vec<_>>().as_slice(), &self.device).map_err(e)?;
        let placeholders = embeds.squeeze(0).and_then(|x| x.index_select(&index, 0)).map_err(e)?;
        let embeds = decoder::add_rows(&embeds, &at, &(image - placeholders).map_err(e)?).map_err(e)?;
        self.text.forward(embeds, &positions, None, false).map_err(e)
    }

    /// The next logits after feeding `token` (its position follows the cache).
    pub fn step(&mut self, token: u32) -> Result<Tensor> {
        let e = |e: candle_core::Error| net_error(e);
        let position = self.text.cached_tokens() as i64 + self.rope_delta;
        let ids = Tensor::new(&[token], &self.device).and_then(|t| t.unsqueeze(0)).map_err(e)?;
        let embeds = self.text.embed(&ids).map_err(e)?;
        self.text.forward(embeds, &[[position; 3]], None, false).map_err(e)
    }
}

impl PaddleOcrVl {
    /// Loads the installed PaddleOCR-VL (`ModelMissing` when it is not downloaded).
    pub fn load_installed(precision: Precision) -> Result<PaddleOcrVl> {
        let manifest = crate::models::hub_model(MODEL)?;
        let dir = crate::models::hub::installed_dir(&crate::models::models_dir(), &manifest)?;
        PaddleOcrVl::load(MODEL, &dir, precision)
    }

    /// Loads a PaddleOCR-VL folder at `precision` on [`super::device`].
    pub fn load(name: &str, dir: &Path, precision: Precision) -> Result<PaddleOcrVl> {
        let dtype = precision.dtype();
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| model_error(name, format!("config.json: {e}")))?;
        let config = parse_config(name, &text)?;
        let files = weight_files(name, dir)?;
        // SAFETY: the weight files are memory-mapped read-only; installs replace a model's folder
        // by renaming, never by writing into it.
        let file =
            unsafe { MmapedSafetensors::multi(&files) }.map_err(|e| model_error(name, format!("weights: {e}")))?;
        let device = super::device();
        if device.is_cpu() {
            check_memory(name, loaded_bytes(&file, precision))?;
        }
        Self::build(name, dir, config, VarBuilder::from_backend(Box::new(file), dtype, device), precision)
    }

    /// The model from `config` with the weights `vb` gives, and the processor, template and
    /// tokenizer of the folder `dir`.
    pub fn build(name: &str, dir: &Path, config: Config, vb: VarBuilder, precision: Precision) -> Result<PaddleOcrVl> {
        let prep: PreprocessorConfig = read_json(name, &dir.join("preprocessor_config.json"))?;
        if prep.merge_size != config.vision_config.spatial_merge_size
            || prep.patch_size != config.vision_config.patch_size
        {
            return Err(model_error(name, "preprocessor_config.json and config.json disagree on patch or merge size"));
        }
        let prompter = Prompter::load(name, dir, IMAGE_TOKEN, prep.merge_size)?;
        let net = PaddleNet::new(config, vb, precision)
            .map_err(|e| model_error(name, format!("weights do not match config.json ({e})")))?;
        let mut stop_tokens: Vec<u32> =
            ["</s>", "<|end_of_sentence|>"].iter().filter_map(|t| prompter.token_id(t)).collect();
        if let Ok(generation) = read_json::<serde_json::Value>(name, &dir.join("generation_config.json")) {
            let ids = generation.get("eos_token_id").cloned().unwrap_or_default();
            let ids = if ids.is_array() { ids } else { serde_json::Value::Array(vec![ids]) };
            stop_tokens.extend(ids.as_array().into_iter().flatten().filter_map(|v| v.as_u64()).map(|v| v as u32));
        }
        Ok(PaddleOcrVl { name: name.into(), net, prep, prompter, stop_tokens })
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

    /// Reads `image` as `task`, greedily, calling `on_text` with each new piece of text;
    /// `on_text` returning false cancels.
    pub fn read(
        &mut self,
        image: &RgbImage,
        task: Task,
        max_tokens: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let pixels = self.prep.pixels(image)?;
        let ids = self.prompt_ids(pixels.grid_thw, task)?;
        let image_tokens = ids.iter().filter(|&&t| t == self.net.config.image_token_id).count();
        let started = Instant::now();
        let logits = self.net.prefill(&ids, &pixels)?;
        let prefill_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let net = &mut self.net;
        let (tokens, stop) =
            generate::decode(&logits, |t| net.step(t), &self.stop_tokens, &self.prompter, max_tokens, on_text)?;
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

#[cfg(test)]
mod tests {
    use super::parse_config;

    #[test]
    fn configs_of_other_models_or_newer_layouts_are_refused_with_a_reason() {
        let full = include_str!("../../../../../models/configs/paddleocr-vl.config.json");
        let config = parse_config("paddleocr-vl", full).unwrap();
        assert_eq!((config.num_hidden_layers, config.vision_config.num_hidden_layers), (18, 27));
        let err = |text: &str| parse_config("paddleocr-vl", text).unwrap_err().to_string();
        assert!(err(r#"{"model_type": "qwen3_vl"}"#).contains("not PaddleOCR-VL"));
        assert!(err(r#"{"model_type": "paddleocr_vl", "text_config": {}}"#).contains("newer"));
        assert!(err(r#"{"model_type": "paddleocr_vl", "use_bias": true}"#).contains("use_bias"));
        assert!(err("not json").contains("config.json"));
    }
}
