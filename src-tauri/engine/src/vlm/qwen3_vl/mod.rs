//! Qwen3-VL (transformers' `qwen3_vl`), written here on candle rather than taken from
//! candle-transformers 0.11, whose port gives text tokens plain 1-D rotary positions instead of
//! the model's 3-D ones and applies no causal mask while prefilling; the parity test against
//! transformers (tests/vlm_parity.rs) is what this file answers to.

pub mod config;
mod vision;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use super::decoder::rope_positions;
use super::decoder::{self, DecoderSpec, RopeLayout, TextModel};
pub use config::Config;
use vision::VisionEncoder;

use super::image_prep::Patches;
use crate::vlm::Precision;
use crate::{Error, Result};

pub struct Qwen3Vl {
    pub config: Config,
    vision: VisionEncoder,
    text: TextModel,
    device: Device,
    dtype: DType,
    /// Added to a generated token's index to get its rotary position (images take fewer
    /// positions than tokens).
    rope_delta: i64,
}

fn model_error(e: candle_core::Error) -> Error {
    Error::Model { model: "qwen3-vl".into(), detail: e.to_string() }
}

impl Qwen3Vl {
    /// The model from `config` with the weights `vb` gives; at [`Precision::Q8`] the language
    /// model's weights are brought to 8 bits as they load (`vb` then gives f32).
    pub fn load(config: Config, vb: VarBuilder, precision: Precision) -> Result<Qwen3Vl> {
        let vision = VisionEncoder::new(&config, vb.pp("model.visual")).map_err(model_error)?;
        let t = &config.text_config;
        let spec = DecoderSpec {
            vocab_size: t.vocab_size,
            hidden_size: t.hidden_size,
            intermediate_size: t.intermediate_size,
            layers: t.num_hidden_layers,
            heads: t.num_attention_heads,
            kv_heads: t.num_key_value_heads,
            head_dim: t.head_dim,
            rms_norm_eps: t.rms_norm_eps,
            rope_theta: config.rope_theta(),
            mrope_section: config.mrope_section(),
            rope_layout: RopeLayout::Interleaved,
            qk_norm: true,
            tie_word_embeddings: config.tie_word_embeddings(),
            prefix: "model.language_model".into(),
        };
        let text = TextModel::new(&spec, vb.clone(), precision == Precision::Q8).map_err(model_error)?;
        Ok(Qwen3Vl { config, vision, text, device: vb.device().clone(), dtype: vb.dtype(), rope_delta: 0 })
    }

    /// The image's features: (embeddings, DeepStack features).
    pub fn encode_image(&self, patches: &Patches) -> Result<(Tensor, Vec<Tensor>)> {
        let rows = patches.values.len() / patches.row_len;
        let pixels = Tensor::from_slice(&patches.values, (rows, patches.row_len), &self.device).map_err(model_error)?;
        let out = self.vision.forward(&pixels, patches.grid_thw).map_err(model_error)?;
        Ok((out.embeds, out.deepstack))
    }

    /// Starts a new sequence: the prompt (image placeholders already expanded) and its image.
    /// Returns the logits of every prompt token (1, tokens, vocab) when `all_logits`, else of
    /// the last.
    pub fn prefill(&mut self, ids: &[u32], image: Option<&Patches>, all_logits: bool) -> Result<Tensor> {
        self.text.clear_cache();
        let merge = self.config.vision_config.spatial_merge_size;
        let grids: Vec<[usize; 3]> = image.iter().map(|p| p.grid_thw).collect();
        let (positions, delta) = rope_positions(ids, self.config.image_token_id, &grids, merge)?;
        self.rope_delta = delta;
        let ids_t = Tensor::new(ids, &self.device).and_then(|t| t.unsqueeze(0)).map_err(model_error)?;
        let mut embeds = self.text.embed(&ids_t).map_err(model_error)?;
        let image_at: Vec<usize> =
            ids.iter().enumerate().filter(|(_, &t)| t == self.config.image_token_id).map(|(i, _)| i).collect();
        let features = match image {
            Some(patches) => {
                let (vision, deepstack) = self.encode_image(patches)?;
                if vision.dim(0).map_err(model_error)? != image_at.len() {
                    return Err(Error::Model {
                        model: "qwen3-vl".into(),
                        detail: format!(
                            "{} image tokens in the prompt for {} image features",
                            image_at.len(),
                            vision.dims()[0]
                        ),
                    });
                }
                // The placeholders' embeddings are replaced by the image's: subtract, then add.
                let placeholders = embeds.squeeze(0).and_then(|e| {
                    e.index_select(
                        &Tensor::new(image_at.iter().map(|&i| i as u32).collect::<Vec<_>>().as_slice(), &self.device)?,
                        0,
                    )
                });
                let replace = placeholders.and_then(|p| vision.to_dtype(self.dtype)? - p).map_err(model_error)?;
                embeds = decoder::add_rows(&embeds, &image_at, &replace).map_err(model_error)?;
                deepstack
            }
            None => Vec::new(),
        };
        let visual = (!features.is_empty()).then_some((image_at.as_slice(), features.as_slice()));
        self.text.forward(embeds, &positions, visual, all_logits).map_err(model_error)
    }

    /// One generated token after the prefill: logits (1, 1, vocab).
    pub fn step(&mut self, token: u32) -> Result<Tensor> {
        let index = self.text.cached_tokens() as i64;
        let position = index + self.rope_delta;
        let ids = Tensor::new(&[token], &self.device).and_then(|t| t.unsqueeze(0)).map_err(model_error)?;
        let embeds = self.text.embed(&ids).map_err(model_error)?;
        self.text.forward(embeds, &[[position; 3]], None, false).map_err(model_error)
    }
}
