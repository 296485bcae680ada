//! Qwen3-VL's vision encoder: patch embedding (a Conv3d whose kernel equals its stride, so a
//! matrix product), learned position embeddings resampled bilinearly to the image's grid, 2-D
//! rotary attention, the 2×2 merger into the language model's width, and the DeepStack features
//! taken from early blocks.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{linear, Embedding, LayerNorm, Linear, VarBuilder};

use super::config::{Config, VisionConfig};
use crate::vlm::vit::{self, ln, Block};

/// Qwen's names: `norm1`, `attn.qkv`, `attn.proj`, `norm2`, `mlp.linear_fc1/2`.
fn qwen_block(cfg: &VisionConfig, vb: VarBuilder) -> candle_core::Result<Block> {
    let h = cfg.hidden_size;
    Ok(Block {
        norm1: ln(h, vb.pp("norm1"))?,
        norm2: ln(h, vb.pp("norm2"))?,
        qkv: linear(h, 3 * h, vb.pp("attn.qkv"))?,
        proj: linear(h, h, vb.pp("attn.proj"))?,
        fc1: linear(h, cfg.intermediate_size, vb.pp("mlp.linear_fc1"))?,
        fc2: linear(cfg.intermediate_size, h, vb.pp("mlp.linear_fc2"))?,
        heads: cfg.num_heads,
    })
}

/// Layer norm, then 2×2 neighbouring patches concatenated and projected. The main merger
/// normalises each patch before concatenating, the DeepStack ones after.
struct Merger {
    norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    merged: usize,
    norm_after_shuffle: bool,
}

impl Merger {
    fn new(cfg: &VisionConfig, norm_after_shuffle: bool, vb: VarBuilder) -> candle_core::Result<Merger> {
        let merged = cfg.hidden_size * cfg.spatial_merge_size * cfg.spatial_merge_size;
        Ok(Merger {
            norm: ln(if norm_after_shuffle { merged } else { cfg.hidden_size }, vb.pp("norm"))?,
            fc1: linear(merged, merged, vb.pp("linear_fc1"))?,
            fc2: linear(merged, cfg.out_hidden_size, vb.pp("linear_fc2"))?,
            merged,
            norm_after_shuffle,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let xs = if self.norm_after_shuffle {
            self.norm.forward(&xs.reshape(((), self.merged))?)?
        } else {
            self.norm.forward(xs)?.reshape(((), self.merged))?
        };
        self.fc2.forward(&self.fc1.forward(&xs)?.gelu_erf()?)
    }
}

pub struct VisionEncoder {
    patch_embed: Linear,
    pos_embed: Embedding,
    blocks: Vec<Block>,
    merger: Merger,
    deepstack: Vec<(usize, Merger)>,
    cfg: VisionConfig,
    rope_theta: f64,
}

/// What the encoder gives the language model for one image.
pub struct VisionOutput {
    /// (image tokens, text hidden): replaces the image placeholder tokens.
    pub embeds: Tensor,
    /// One per DeepStack layer, same shape: added after the first decoder layers.
    pub deepstack: Vec<Tensor>,
}

impl VisionEncoder {
    pub fn new(config: &Config, vb: VarBuilder) -> candle_core::Result<VisionEncoder> {
        let cfg = config.vision_config.clone();
        let patch_len = cfg.in_channels * cfg.temporal_patch_size * cfg.patch_size * cfg.patch_size;
        let proj = vb.pp("patch_embed.proj");
        let weight = proj.get(
            (cfg.hidden_size, cfg.in_channels, cfg.temporal_patch_size, cfg.patch_size, cfg.patch_size),
            "weight",
        )?;
        let patch_embed =
            Linear::new(weight.reshape((cfg.hidden_size, patch_len))?, Some(proj.get(cfg.hidden_size, "bias")?));
        let pos_embed = Embedding::new(
            vb.get((cfg.num_position_embeddings, cfg.hidden_size), "pos_embed.weight")?,
            cfg.hidden_size,
        );
        let blocks = (0..cfg.depth)
            .map(|i| qwen_block(&cfg, vb.pp(format!("blocks.{i}"))))
            .collect::<candle_core::Result<_>>()?;
        let merger = Merger::new(&cfg, false, vb.pp("merger"))?;
        let deepstack = cfg
            .deepstack_visual_indexes
            .iter()
            .enumerate()
            .map(|(j, &layer)| Ok((layer, Merger::new(&cfg, true, vb.pp(format!("deepstack_merger_list.{j}")))?)))
            .collect::<candle_core::Result<_>>()?;
        Ok(VisionEncoder {
            patch_embed,
            pos_embed,
            blocks,
            merger,
            deepstack,
            rope_theta: config.vision_rope_theta(),
            cfg,
        })
    }

    /// `patches`: (patches, patch_len) in merge-block order; `grid`: (t, h, w) in patches.
    pub fn forward(&self, patches: &Tensor, grid: [usize; 3]) -> candle_core::Result<VisionOutput> {
        let device = patches.device();
        let dtype = self.patch_embed.weight().dtype();
        let mut xs = self.patch_embed.forward(&patches.to_dtype(dtype)?)?;
        let (index, weight) = self.position_taps(grid, device)?;
        let taps = self.pos_embed.forward(&index)?.reshape(((), 4, self.cfg.hidden_size))?;
        let pos = taps.broadcast_mul(&weight.to_dtype(dtype)?.unsqueeze(2)?)?.sum(1)?;
        xs = (xs + pos)?;
        let (cos, sin) = self.rotary(grid, device, dtype)?;
        let mut deepstack = Vec::new();
        for (i, block) in self.blocks.iter().enumerate() {
            xs = block.forward(&xs, &cos, &sin)?;
            if let Some((_, merger)) = self.deepstack.iter().find(|(layer, _)| *layer == i) {
                deepstack.push(merger.forward(&xs)?);
            }
        }
        Ok(VisionOutput { embeds: self.merger.forward(&xs)?, deepstack })
    }

    /// (row, col) of each patch in merge-block order, repeated over t.
    fn patch_positions(&self, [t, h, w]: [usize; 3]) -> Vec<(usize, usize)> {
        let m = self.cfg.spatial_merge_size;
        let mut out = Vec::with_capacity(t * h * w);
        for _ in 0..t {
            for by in 0..h / m {
                for bx in 0..w / m {
                    for my in 0..m {
                        for mx in 0..m {
                            out.push((by * m + my, bx * m + mx));
                        }
                    }
                }
            }
        }
        out
    }

    /// Bilinear taps (align_corners) into the square position table.
    fn position_taps(&self, grid: [usize; 3], device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        let side = (self.cfg.num_position_embeddings as f64).sqrt() as usize;
        vit::position_taps(&self.patch_positions(grid), grid[1], grid[2], side, true, device)
    }

    fn rotary(&self, grid: [usize; 3], device: &Device, dtype: DType) -> candle_core::Result<(Tensor, Tensor)> {
        vit::rotary(
            &self.patch_positions(grid),
            self.cfg.hidden_size / self.cfg.num_heads,
            self.rope_theta,
            device,
            dtype,
        )
    }
}
