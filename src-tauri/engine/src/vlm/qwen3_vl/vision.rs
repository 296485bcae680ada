//! Qwen3-VL's vision encoder: patch embedding (a Conv3d whose kernel equals its stride, so a
//! matrix product), learned position embeddings resampled bilinearly to the image's grid, 2-D
//! rotary attention, the 2×2 merger into the language model's width, and the DeepStack features
//! taken from early blocks.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{layer_norm, linear, Embedding, LayerNorm, LayerNormConfig, Linear, VarBuilder};

use super::config::{Config, VisionConfig};
use super::rotate_half;

struct Block {
    norm1: LayerNorm,
    norm2: LayerNorm,
    qkv: Linear,
    proj: Linear,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
}

fn ln(size: usize, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    layer_norm(size, LayerNormConfig { eps: 1e-6, ..Default::default() }, vb)
}

impl Block {
    fn new(cfg: &VisionConfig, vb: VarBuilder) -> candle_core::Result<Block> {
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

    /// `xs`: (patches, hidden) of one image; every patch attends to every other.
    fn forward(&self, xs: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
        let (n, hidden) = xs.dims2()?;
        let head_dim = hidden / self.heads;
        let qkv = self.qkv.forward(&self.norm1.forward(xs)?)?.reshape((n, 3, self.heads, head_dim))?;
        let rope = |t: Tensor| -> candle_core::Result<Tensor> {
            let (c, s) = (cos.unsqueeze(1)?, sin.unsqueeze(1)?);
            t.broadcast_mul(&c)? + rotate_half(&t)?.broadcast_mul(&s)?
        };
        let q = rope(qkv.narrow(1, 0, 1)?.squeeze(1)?)?.transpose(0, 1)?.contiguous()?;
        let k = rope(qkv.narrow(1, 1, 1)?.squeeze(1)?)?.transpose(0, 1)?.contiguous()?;
        let v = qkv.narrow(1, 2, 1)?.squeeze(1)?.transpose(0, 1)?.contiguous()?;
        let scores = (q.matmul(&k.t()?)? * (head_dim as f64).powf(-0.5))?;
        let attn = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
        let attn = attn.transpose(0, 1)?.reshape((n, hidden))?;
        let xs = (xs + self.proj.forward(&attn)?)?;
        let mlp = self.fc2.forward(&self.fc1.forward(&self.norm2.forward(&xs)?)?.gelu()?)?;
        xs + mlp
    }
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
        let xs =
            if self.norm_after_shuffle { self.norm.forward(&xs.reshape(((), self.merged))?)? } else { self.norm.forward(xs)?.reshape(((), self.merged))? };
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
        let weight = proj.get((cfg.hidden_size, cfg.in_channels, cfg.temporal_patch_size, cfg.patch_size, cfg.patch_size), "weight")?;
        let patch_embed = Linear::new(weight.reshape((cfg.hidden_size, patch_len))?, Some(proj.get(cfg.hidden_size, "bias")?));
        let pos_embed = Embedding::new(vb.get((cfg.num_position_embeddings, cfg.hidden_size), "pos_embed.weight")?, cfg.hidden_size);
        let blocks = (0..cfg.depth).map(|i| Block::new(&cfg, vb.pp(format!("blocks.{i}")))).collect::<candle_core::Result<_>>()?;
        let merger = Merger::new(&cfg, false, vb.pp("merger"))?;
        let deepstack = cfg
            .deepstack_visual_indexes
            .iter()
            .enumerate()
            .map(|(j, &layer)| Ok((layer, Merger::new(&cfg, true, vb.pp(format!("deepstack_merger_list.{j}")))?)))
            .collect::<candle_core::Result<_>>()?;
        Ok(VisionEncoder { patch_embed, pos_embed, blocks, merger, deepstack, rope_theta: config.vision_rope_theta(), cfg })
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

    /// Bilinear taps (align_corners) into the square position table, as in transformers'
    /// `get_vision_interpolation_indices_and_weights`.
    fn position_taps(&self, grid: [usize; 3], device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        let side = (self.cfg.num_position_embeddings as f64).sqrt() as usize;
        let axis = |i: usize, size: usize| -> ([usize; 2], [f32; 2]) {
            let src = i as f32 * (side - 1) as f32 / (size.max(2) - 1) as f32;
            let floor = src.floor();
            let f = floor as usize;
            let d = src - floor;
            ([f.min(side - 1), (f + 1).min(side - 1)], [1.0 - d, d])
        };
        let (mut index, mut weight) = (Vec::new(), Vec::new());
        for (row, col) in self.patch_positions(grid) {
            let (ht, hw) = axis(row, grid[1]);
            let (wt, ww) = axis(col, grid[2]);
            for a in 0..2 {
                for b in 0..2 {
                    index.push((ht[a] * side + wt[b]) as u32);
                    weight.push(hw[a] * ww[b]);
                }
            }
        }
        let n = index.len() / 4;
        Ok((Tensor::from_vec(index, n * 4, device)?, Tensor::from_vec(weight, (n, 4), device)?))
    }

    /// 2-D rotary angles: a quarter of the head for rows, a quarter for columns, twice.
    fn rotary(&self, grid: [usize; 3], device: &Device, dtype: DType) -> candle_core::Result<(Tensor, Tensor)> {
        let head_dim = self.cfg.hidden_size / self.cfg.num_heads;
        let spatial = head_dim / 2;
        let inv_freq: Vec<f32> = (0..spatial).step_by(2).map(|i| 1.0 / self.rope_theta.powf(i as f64 / spatial as f64) as f32).collect();
        let positions = self.patch_positions(grid);
        let mut angles = Vec::with_capacity(positions.len() * spatial);
        for (row, col) in positions {
            angles.extend(inv_freq.iter().map(|f| row as f32 * f));
            angles.extend(inv_freq.iter().map(|f| col as f32 * f));
        }
        let n = angles.len() / spatial;
        let angles = Tensor::from_vec(angles, (n, spatial), device)?;
        let angles = Tensor::cat(&[&angles, &angles], D::Minus1)?;
        Ok((angles.cos()?.to_dtype(dtype)?, angles.sin()?.to_dtype(dtype)?))
    }
}
