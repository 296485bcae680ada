//! PaddleOCR-VL's vision side: the NaViT-style SigLIP encoder (14-pixel patches embedded by a
//! convolution whose kernel equals its stride, so a matrix product; the 27×27 table of learned
//! positions resampled bilinearly to the image's grid; 2-D rotary attention over all patches in
//! raster order; a final layer norm) and the projector (layer norm, 2×2 neighbouring patches
//! side by side, two linear layers with an exact GELU) into the language model's width.

use candle_core::{Device, Module, Tensor};
use candle_nn::{layer_norm, linear, Embedding, LayerNorm, LayerNormConfig, Linear, VarBuilder};
use candle_transformers::models::paddleocr_vl::Config;

use crate::vlm::image_prep::Pixels;
use crate::vlm::vit::{self, Block};

pub struct VisionEncoder {
    patch_embed: Linear,
    pos_embed: Embedding,
    side: usize,
    blocks: Vec<Block>,
    post_norm: LayerNorm,
    pre_norm: LayerNorm,
    linear_1: Linear,
    linear_2: Linear,
    patch: usize,
    merge: usize,
    heads: usize,
    hidden: usize,
}

impl VisionEncoder {
    /// `vb` at the model's root: the encoder under `visual.vision_model`, the projector under
    /// `mlp_AR`.
    pub fn new(config: &Config, vb: VarBuilder) -> candle_core::Result<VisionEncoder> {
        let c = &config.vision_config;
        let (h, p) = (c.hidden_size, c.patch_size);
        let enc = vb.pp("visual.vision_model");
        let emb = enc.pp("embeddings");
        let weight = emb.get((h, c.num_channels, p, p), "patch_embedding.weight")?;
        let patch_embed =
            Linear::new(weight.reshape((h, c.num_channels * p * p))?, Some(emb.get(h, "patch_embedding.bias")?));
        let side = c.image_size / p;
        let pos_embed = Embedding::new(emb.get((side * side, h), "position_embedding.weight")?, h);
        let blocks = (0..c.num_hidden_layers)
            .map(|i| {
                Block::siglip(h, c.intermediate_size, c.num_attention_heads, enc.pp(format!("encoder.layers.{i}")))
            })
            .collect::<candle_core::Result<_>>()?;
        let merged = h * c.spatial_merge_size * c.spatial_merge_size;
        let proj = vb.pp("mlp_AR");
        Ok(VisionEncoder {
            patch_embed,
            pos_embed,
            side,
            blocks,
            post_norm: layer_norm(
                h,
                LayerNormConfig { eps: c.layer_norm_eps, ..Default::default() },
                enc.pp("post_layernorm"),
            )?,
            pre_norm: layer_norm(h, LayerNormConfig { eps: 1e-5, ..Default::default() }, proj.pp("pre_norm"))?,
            linear_1: linear(merged, merged, proj.pp("linear_1"))?,
            linear_2: linear(merged, config.hidden_size, proj.pp("linear_2"))?,
            patch: p,
            merge: c.spatial_merge_size,
            heads: c.num_attention_heads,
            hidden: h,
        })
    }

    /// One image's embeddings for the language model: (merged patches, text hidden), in
    /// merge-block raster order.
    pub fn forward(&self, pixels: &Pixels, device: &Device) -> candle_core::Result<Tensor> {
        let dtype = self.patch_embed.weight().dtype();
        let [_, gh, gw] = pixels.grid_thw;
        let p = self.patch;
        // (3, gh, p, gw, p) -> (gh, gw, 3, p, p): one row of channel-major pixels per patch.
        let image = Tensor::from_slice(&pixels.values, (3, gh, p, gw, p), device)?;
        let patches = image.permute((1, 3, 0, 2, 4))?.reshape((gh * gw, 3 * p * p))?.to_dtype(dtype)?;
        let positions: Vec<(usize, usize)> = (0..gh).flat_map(|r| (0..gw).map(move |c| (r, c))).collect();
        let (index, weight) = vit::position_taps(&positions, gh, gw, self.side, false, device)?;
        let taps = self.pos_embed.forward(&index)?.reshape(((), 4, self.hidden))?;
        let pos = taps.broadcast_mul(&weight.to_dtype(dtype)?.unsqueeze(2)?)?.sum(1)?;
        let mut xs = (self.patch_embed.forward(&patches)? + pos)?;
        let (cos, sin) = vit::rotary(&positions, self.hidden / self.heads, 10_000.0, device, dtype)?;
        for block in &self.blocks {
            xs = block.forward(&xs, &cos, &sin)?;
        }
        let xs = self.pre_norm.forward(&self.post_norm.forward(&xs)?)?;
        // 2×2 neighbours side by side: (gh/m, m, gw/m, m, d) -> (gh/m, gw/m, m, m, d).
        let m = self.merge;
        let xs = xs
            .reshape((gh / m, m, gw / m, m, self.hidden))?
            .transpose(1, 2)?
            .reshape((gh / m * (gw / m), m * m * self.hidden))?;
        self.linear_2.forward(&self.linear_1.forward(&xs)?.gelu_erf()?)
    }
}
