//! The language models of the vision-language models: Llama-style decoder layers (grouped-query
//! attention, SwiGLU, RMS norms; Qwen3's q/k norms where the model has them) with multimodal
//! rotary positions (each frequency follows the time, row or column position of its token:
//! interleaved in Qwen3-VL, in three sections in PaddleOCR-VL's ERNIE-4.5) and, for Qwen3-VL,
//! DeepStack visual features added after the first layers. Decoding runs every projection
//! through [`Proj`], which reads the weights once per token.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{embedding, linear_no_bias, rms_norm, Embedding, Linear, RmsNorm, VarBuilder};

use crate::vlm::matvec::Proj;
use crate::{Error, Result};

/// The half-rotation of rotary embeddings: (x1, x2) -> (-x2, x1).
pub fn rotate_half(xs: &Tensor) -> candle_core::Result<Tensor> {
    let half = xs.dim(D::Minus1)? / 2;
    let x1 = xs.narrow(D::Minus1, 0, half)?;
    let x2 = xs.narrow(D::Minus1, half, half)?;
    Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)
}

/// How the rotary frequencies are shared out among the time, row and column positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RopeLayout {
    /// Frequency pairs cycle t, h, w (Qwen3-VL).
    Interleaved,
    /// The first section's frequencies follow t, the next h, the last w (Qwen2-VL, ERNIE-4.5).
    Sectioned,
}

/// The decoder's shape and where its weights are.
#[derive(Debug, Clone)]
pub struct DecoderSpec {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub mrope_section: Vec<usize>,
    pub rope_layout: RopeLayout,
    /// Qwen3's RMS norms on each head's queries and keys.
    pub qk_norm: bool,
    pub tie_word_embeddings: bool,
    /// The prefix of the decoder's weights ("model.language_model", "model").
    pub prefix: String,
}

struct Layer {
    input_norm: RmsNorm,
    post_norm: RmsNorm,
    /// q, k and v projections as one matrix (one pass over the weights when decoding).
    qkv: Proj,
    o_proj: Proj,
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    /// gate and up projections as one matrix.
    gate_up: Proj,
    down: Proj,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    cache: Option<KvCache>,
}

/// Linear layers without bias over the same input, as one (their outputs side by side).
fn stacked(parts: &[Linear]) -> candle_core::Result<Proj> {
    let weights: Vec<&Tensor> = parts.iter().map(|l| l.weight()).collect();
    Ok(Proj::new(Linear::new(Tensor::cat(&weights, 0)?, None)))
}

/// Keys and values of the tokens so far, in buffers with room to grow: a new token is written in
/// place instead of the whole cache being copied each step.
struct KvCache {
    k: Tensor,
    v: Tensor,
    len: usize,
}

impl KvCache {
    /// Room for this many more tokens is made whenever the buffers fill up.
    const GROW: usize = 256;

    fn new(k: &Tensor, v: &Tensor) -> candle_core::Result<KvCache> {
        let (b, h, n, d) = k.dims4()?;
        let mut cache = KvCache {
            k: Tensor::zeros((b, h, n + Self::GROW, d), k.dtype(), k.device())?,
            v: Tensor::zeros((b, h, n + Self::GROW, d), v.dtype(), v.device())?,
            len: 0,
        };
        cache.append(k, v)?;
        Ok(cache)
    }

    fn append(&mut self, k: &Tensor, v: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let n = k.dim(2)?;
        if self.len + n > self.k.dim(2)? {
            let (b, h, _, d) = self.k.dims4()?;
            let room = Tensor::zeros((b, h, n + Self::GROW, d), k.dtype(), k.device())?;
            self.k = Tensor::cat(&[&self.k.narrow(2, 0, self.len)?, &room], 2)?;
            self.v = Tensor::cat(&[&self.v.narrow(2, 0, self.len)?, &room], 2)?;
        }
        self.k.slice_set(k, 2, self.len)?;
        self.v.slice_set(v, 2, self.len)?;
        self.len += n;
        Ok((self.k.narrow(2, 0, self.len)?, self.v.narrow(2, 0, self.len)?))
    }
}

impl Layer {
    fn new(t: &DecoderSpec, vb: VarBuilder) -> candle_core::Result<Layer> {
        let (h, hd) = (t.hidden_size, t.head_dim);
        let attn = vb.pp("self_attn");
        let qk_norm = |name: &str| -> candle_core::Result<Option<RmsNorm>> {
            t.qk_norm.then(|| rms_norm(hd, t.rms_norm_eps, attn.pp(name))).transpose()
        };
        Ok(Layer {
            input_norm: rms_norm(h, t.rms_norm_eps, vb.pp("input_layernorm"))?,
            post_norm: rms_norm(h, t.rms_norm_eps, vb.pp("post_attention_layernorm"))?,
            qkv: stacked(&[
                linear_no_bias(h, t.heads * hd, attn.pp("q_proj"))?,
                linear_no_bias(h, t.kv_heads * hd, attn.pp("k_proj"))?,
                linear_no_bias(h, t.kv_heads * hd, attn.pp("v_proj"))?,
            ])?,
            o_proj: Proj::new(linear_no_bias(t.heads * hd, h, attn.pp("o_proj"))?),
            q_norm: qk_norm("q_norm")?,
            k_norm: qk_norm("k_norm")?,
            gate_up: stacked(&[
                linear_no_bias(h, t.intermediate_size, vb.pp("mlp.gate_proj"))?,
                linear_no_bias(h, t.intermediate_size, vb.pp("mlp.up_proj"))?,
            ])?,
            down: Proj::new(linear_no_bias(t.intermediate_size, h, vb.pp("mlp.down_proj"))?),
            heads: t.heads,
            kv_heads: t.kv_heads,
            head_dim: hd,
            cache: None,
        })
    }

    /// The projections in 8 bits (see [`crate::vlm::matvec::Q8Matrix`]): each decoded token
    /// reads a quarter of the bytes it reads in f32.
    fn quantize(&mut self) -> candle_core::Result<()> {
        for proj in [&mut self.qkv, &mut self.o_proj, &mut self.gate_up, &mut self.down] {
            proj.quantize()?;
        }
        Ok(())
    }

    /// `xs`: (1, tokens, hidden); `cos`/`sin`: (tokens, head_dim); `mask`: causal mask for
    /// the new tokens over cached + new keys (None for a single token).
    fn forward(
        &mut self,
        xs: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let (b, n, _) = xs.dims3()?;
        let qkv = self.qkv.forward(&self.input_norm.forward(xs)?)?;
        let hd = self.head_dim;
        let heads = |start: usize, count: usize, norm: Option<&RmsNorm>| -> candle_core::Result<Tensor> {
            let t = qkv.narrow(2, start * hd, count * hd)?.reshape((b, n, count, hd))?;
            let t = match norm {
                Some(norm) => norm.forward(&t.contiguous()?)?,
                None => t,
            };
            t.transpose(1, 2)?.contiguous()
        };
        let rope =
            |t: Tensor| -> candle_core::Result<Tensor> { t.broadcast_mul(cos)? + rotate_half(&t)?.broadcast_mul(sin)? };
        let q = rope(heads(0, self.heads, self.q_norm.as_ref())?)?;
        let k = rope(heads(self.heads, self.kv_heads, self.k_norm.as_ref())?)?;
        let v = heads(self.heads + self.kv_heads, self.kv_heads, None)?;
        let (k, v) = match &mut self.cache {
            Some(cache) => cache.append(&k, &v)?,
            None => {
                self.cache = Some(KvCache::new(&k, &v)?);
                (k, v)
            }
        };
        // Grouped-query attention: each key/value head serves `group` query heads.
        let group = self.heads / self.kv_heads;
        let q = q.reshape((b, self.kv_heads, group * n, self.head_dim))?;
        let mut scores = (q.matmul(&k.t()?)? * (self.head_dim as f64).powf(-0.5))?;
        if let Some(mask) = mask {
            let total = k.dim(2)?;
            scores = scores.reshape((b, self.kv_heads, group, n, total))?.broadcast_add(mask)?.reshape((
                b,
                self.kv_heads,
                group * n,
                total,
            ))?;
        }
        let attn = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
        let attn = attn.reshape((b, self.heads, n, self.head_dim))?.transpose(1, 2)?.reshape((
            b,
            n,
            self.heads * self.head_dim,
        ))?;
        let xs = (xs + self.o_proj.forward(&attn)?)?;
        let normed = self.post_norm.forward(&xs)?;
        let gate_up = self.gate_up.forward(&normed)?;
        let half = gate_up.dim(2)? / 2;
        let mlp = self
            .down
            .forward(&(candle_nn::ops::silu(&gate_up.narrow(2, 0, half)?)? * gate_up.narrow(2, half, half)?)?)?;
        xs + mlp
    }
}

pub struct TextModel {
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: Proj,
    inv_freq: Vec<f32>,
    mrope_section: Vec<usize>,
    rope_layout: RopeLayout,
}

impl TextModel {
    /// With `quantize`, each layer's projections and the output head are brought to 8 bits as
    /// they are loaded (see [`TextModel::quantize`]), so that loading never holds the whole
    /// decoder in f32.
    pub fn new(t: &DecoderSpec, vb: VarBuilder, quantize: bool) -> candle_core::Result<TextModel> {
        let lm = vb.pp(&t.prefix);
        let embed = embedding(t.vocab_size, t.hidden_size, lm.pp("embed_tokens"))?;
        let layers = (0..t.layers)
            .map(|i| {
                let mut layer = Layer::new(t, lm.pp(format!("layers.{i}")))?;
                if quantize {
                    layer.quantize()?;
                }
                Ok(layer)
            })
            .collect::<candle_core::Result<_>>()?;
        let mut lm_head = Proj::new(if t.tie_word_embeddings {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            linear_no_bias(t.hidden_size, t.vocab_size, vb.pp("lm_head"))?
        });
        if quantize {
            lm_head.quantize()?;
        }
        let inv_freq =
            (0..t.head_dim).step_by(2).map(|i| 1.0 / t.rope_theta.powf(i as f64 / t.head_dim as f64) as f32).collect();
        Ok(TextModel {
            embed,
            layers,
            norm: rms_norm(t.hidden_size, t.rms_norm_eps, lm.pp("norm"))?,
            lm_head,
            inv_freq,
            mrope_section: t.mrope_section.clone(),
            rope_layout: t.rope_layout,
        })
    }

    pub fn embed(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        self.embed.forward(ids)
    }

    pub fn clear_cache(&mut self) {
        for layer in &mut self.layers {
            layer.cache = None;
        }
    }

    pub fn cached_tokens(&self) -> usize {
        self.layers.first().and_then(|l| l.cache.as_ref()).map_or(0, |c| c.len)
    }

    /// Which position (0 time, 1 row, 2 column) frequency `j` follows. Interleaved: the pairs
    /// cycle t, h, w (the first `3 × section[1]` and `3 × section[2]` of them; the rest follow
    /// time). Sectioned: `section[0]` for time, then `section[1]` rows, then columns.
    fn axis_of(&self, j: usize) -> usize {
        let s = &self.mrope_section;
        match self.rope_layout {
            RopeLayout::Interleaved if j % 3 == 1 && j < s[1] * 3 => 1,
            RopeLayout::Interleaved if j % 3 == 2 && j < s[2] * 3 => 2,
            RopeLayout::Interleaved => 0,
            RopeLayout::Sectioned if j < s[0] => 0,
            RopeLayout::Sectioned if j < s[0] + s[1] => 1,
            RopeLayout::Sectioned => 2,
        }
    }

    /// cos and sin (tokens, head_dim) for positions given as [time, row, column] per token.
    fn rotary(&self, positions: &[[i64; 3]], device: &Device, dtype: DType) -> candle_core::Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let axes: Vec<usize> = (0..half).map(|j| self.axis_of(j)).collect();
        let mut angles = Vec::with_capacity(positions.len() * half);
        for pos in positions {
            angles.extend(self.inv_freq.iter().zip(&axes).map(|(f, &axis)| pos[axis] as f32 * f));
        }
        let angles = Tensor::from_vec(angles, (positions.len(), half), device)?;
        let angles = Tensor::cat(&[&angles, &angles], D::Minus1)?;
        Ok((angles.cos()?.to_dtype(dtype)?, angles.sin()?.to_dtype(dtype)?))
    }

    /// Runs new tokens through the decoder (after those in the cache) and returns the logits of
    /// every new token (1, tokens, vocab) or only the last (1, 1, vocab).
    /// `visual`: positions (within the new tokens) of image tokens and the DeepStack features
    /// to add at them.
    pub fn forward(
        &mut self,
        embeds: Tensor,
        positions: &[[i64; 3]],
        visual: Option<(&[usize], &[Tensor])>,
        all_logits: bool,
    ) -> candle_core::Result<Tensor> {
        let (_, n, _) = embeds.dims3()?;
        let device = embeds.device().clone();
        let dtype = embeds.dtype();
        let (cos, sin) = self.rotary(positions, &device, dtype)?;
        let past = self.cached_tokens();
        let mask = if n > 1 {
            let values: Vec<f32> = (0..n)
                .flat_map(|i| (0..past + n).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
                .collect();
            Some(Tensor::from_vec(values, (n, past + n), &device)?.to_dtype(dtype)?)
        } else {
            None
        };
        let mut xs = embeds;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            xs = layer.forward(&xs, &cos, &sin, mask.as_ref())?;
            if let Some((at, features)) = visual {
                if let Some(feature) = features.get(i) {
                    xs = add_rows(&xs, at, feature)?;
                }
            }
        }
        let xs = if all_logits { xs } else { xs.narrow(1, n - 1, 1)? };
        self.lm_head.forward(&self.norm.forward(&xs)?)
    }
}

/// 3-D rotary positions of a prompt, as transformers' `get_rope_index`: text tokens count on
/// all three axes; an image's tokens take (start, start + row, start + column) and the text
/// after it resumes at start + max(rows, columns).
pub fn rope_positions(
    ids: &[u32],
    image_token: u32,
    grids: &[[usize; 3]],
    merge: usize,
) -> Result<(Vec<[i64; 3]>, i64)> {
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
        let [t, h, w] = *grids.next().ok_or_else(|| Error::Model {
            model: "vlm".into(),
            detail: "more image placeholders than images".into(),
        })?;
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
        return Err(Error::Model {
            model: "vlm".into(),
            detail: "image placeholders do not match the image's size".into(),
        });
    }
    let max = positions.iter().flat_map(|p| p.iter()).copied().max().unwrap_or(-1);
    Ok((positions, max + 1 - ids.len() as i64))
}

/// `xs[0, at[r], :] += rows[r, :]` for each r.
pub fn add_rows(xs: &Tensor, at: &[usize], rows: &Tensor) -> candle_core::Result<Tensor> {
    let (_, n, hidden) = xs.dims3()?;
    let mut full = vec![0f32; n * hidden];
    let rows_data = rows.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    for (r, &pos) in at.iter().enumerate() {
        full[pos * hidden..(pos + 1) * hidden].copy_from_slice(&rows_data[r * hidden..(r + 1) * hidden]);
    }
    xs + Tensor::from_vec(full, (1, n, hidden), xs.device())?.to_dtype(xs.dtype())?
}

#[cfg(test)]
mod tests {
    use super::{rope_positions, RopeLayout};

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

    #[test]
    fn sectioned_and_interleaved_rotary_layouts_share_frequencies_differently() {
        let spec = |rope_layout| super::TextModel {
            embed: candle_nn::Embedding::new(
                candle_core::Tensor::zeros((1, 1), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
                1,
            ),
            layers: vec![],
            norm: candle_nn::RmsNorm::new(
                candle_core::Tensor::ones(1, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
                1e-6,
            ),
            lm_head: crate::vlm::matvec::Proj::new(candle_nn::Linear::new(
                candle_core::Tensor::zeros((1, 1), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
                None,
            )),
            inv_freq: vec![1.0; 8],
            mrope_section: vec![2, 3, 3],
            rope_layout,
        };
        let sectioned: Vec<usize> = (0..8).map(|j| spec(RopeLayout::Sectioned).axis_of(j)).collect();
        assert_eq!(sectioned, [0, 0, 1, 1, 1, 2, 2, 2]);
        let interleaved: Vec<usize> = (0..8).map(|j| spec(RopeLayout::Interleaved).axis_of(j)).collect();
        assert_eq!(interleaved, [0, 1, 2, 0, 1, 2, 0, 1]);
    }
}
