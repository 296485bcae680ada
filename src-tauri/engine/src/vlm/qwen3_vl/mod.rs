//! Qwen3-VL (transformers' `qwen3_vl`), written here on candle rather than taken from
//! candle-transformers 0.11, whose port gives text tokens plain 1-D rotary positions instead of
//! the model's 3-D ones and applies no causal mask while prefilling; the parity test against
//! transformers (tests/vlm_parity.rs) is what this file answers to.

pub mod config;
mod text;
mod vision;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;

pub use config::Config;
use text::TextModel;
use vision::VisionEncoder;

use super::image_prep::Patches;
use crate::{Error, Result};

pub(crate) fn rotate_half(xs: &Tensor) -> candle_core::Result<Tensor> {
    let half = xs.dim(D::Minus1)? / 2;
    let x1 = xs.narrow(D::Minus1, 0, half)?;
    let x2 = xs.narrow(D::Minus1, half, half)?;
    Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)
}

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

/// 3-D rotary positions of a prompt, as transformers' `get_rope_index`: text tokens count on
/// all three axes; an image's tokens take (start, start + row, start + column) and the text
/// after it resumes at start + max(rows, columns).
pub fn rope_positions(ids: &[u32], image_token: u32, grids: &[[usize; 3]], merge: usize) -> Result<(Vec<[i64; 3]>, i64)> {
    let mut positions = Vec::with_capacity(ids.len());
    let mut grids = grids.iter();
    let mut current = 0i64;
    let mut i = 0;
    while i < ids.len() {
        if ids[i] != image_token {
            positions.push([current; 3]);
            current += 1;
            i += 1;
            continue;
        }
        let [t, h, w] = *grids.next().ok_or_else(|| Error::Model { model: "qwen3-vl".into(), detail: "more image placeholders than images".into() })?;
        let (gh, gw) = (h / merge, w / merge);
        for ti in 0..t {
            for y in 0..gh {
                for x in 0..gw {
                    positions.push([current + ti as i64, current + y as i64, current + x as i64]);
                }
            }
        }
        i += t * gh * gw;
        current += gh.max(gw) as i64;
    }
    if positions.len() != ids.len() {
        return Err(Error::Model { model: "qwen3-vl".into(), detail: "image placeholders do not match the image's size".into() });
    }
    let max = positions.iter().flat_map(|p| p.iter()).copied().max().unwrap_or(-1);
    Ok((positions, max + 1 - ids.len() as i64))
}

fn model_error(e: candle_core::Error) -> Error {
    Error::Model { model: "qwen3-vl".into(), detail: e.to_string() }
}

impl Qwen3Vl {
    pub fn load(config: Config, vb: VarBuilder) -> Result<Qwen3Vl> {
        let vision = VisionEncoder::new(&config, vb.pp("model.visual")).map_err(model_error)?;
        let text = TextModel::new(&config, vb.clone()).map_err(model_error)?;
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
        let image_at: Vec<usize> = ids.iter().enumerate().filter(|(_, &t)| t == self.config.image_token_id).map(|(i, _)| i).collect();
        let features = match image {
            Some(patches) => {
                let (vision, deepstack) = self.encode_image(patches)?;
                if vision.dim(0).map_err(model_error)? != image_at.len() {
                    return Err(Error::Model {
                        model: "qwen3-vl".into(),
                        detail: format!("{} image tokens in the prompt for {} image features", image_at.len(), vision.dims()[0]),
                    });
                }
                // The placeholders' embeddings are replaced by the image's: subtract, then add.
                let placeholders = embeds
                    .squeeze(0)
                    .and_then(|e| e.index_select(&Tensor::new(image_at.iter().map(|&i| i as u32).collect::<Vec<_>>().as_slice(), &self.device)?, 0));
                let replace = placeholders.and_then(|p| vision.to_dtype(self.dtype)? - p).map_err(model_error)?;
                embeds = text::add_rows(&embeds, &image_at, &replace).map_err(model_error)?;
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

#[cfg(test)]
mod tests {
    use super::rope_positions;

    #[test]
    fn text_after_an_image_resumes_at_its_longest_side() {
        // 2 text tokens, a 4x6-patch image (2x3 merged tokens), 1 text token.
        let ids = [1, 2, 9, 9, 9, 9, 9, 9, 3];
        let (pos, delta) = rope_positions(&ids, 9, &[[1, 4, 6]], 2).unwrap();
        assert_eq!(pos[2], [2, 2, 2]);
        assert_eq!(pos[7], [2, 3, 4]);
        assert_eq!(pos[8], [5, 5, 5]);
        assert_eq!(delta, 6 - 9);
        assert!(rope_positions(&ids, 9, &[], 2).is_err());
    }
}
