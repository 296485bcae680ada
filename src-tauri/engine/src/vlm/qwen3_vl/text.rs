//! Qwen3-VL's language model: Qwen3 decoder layers (q/k RMS norms, grouped-query attention,
//! SwiGLU) with interleaved multimodal rotary positions (each frequency follows the time, row or
//! column position of its token) and DeepStack visual features added after the first layers.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{embedding, linear_no_bias, rms_norm, Embedding, Linear, RmsNorm, VarBuilder};

use crate::vlm::matvec::Proj;

use super::config::Config;
use super::rotate_half;

struct Layer {
    input_norm: RmsNorm,
    post_norm: RmsNorm,
    /// q, k and v projections as one matrix (one pass over the weights when decoding).
    qkv: Proj,
    o_proj: Proj,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
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
    fn new(config: &Config, vb: VarBuilder) -> candle_core::Result<Layer> {
        let t = &config.text_config;
        let (h, hd) = (t.hidden_size, t.head_dim);
        let attn = vb.pp("self_attn");
        Ok(Layer {
            input_norm: rms_norm(h, t.rms_norm_eps, vb.pp("input_layernorm"))?,
            post_norm: rms_norm(h, t.rms_norm_eps, vb.pp("post_attention_layernorm"))?,
            qkv: stacked(&[
                linear_no_bias(h, t.num_attention_heads * hd, attn.pp("q_proj"))?,
                linear_no_bias(h, t.num_key_value_heads * hd, attn.pp("k_proj"))?,
                linear_no_bias(h, t.num_key_value_heads * hd, attn.pp("v_proj"))?,
            ])?,
            o_proj: Proj::new(linear_no_bias(t.num_attention_heads * hd, h, attn.pp("o_proj"))?),
            q_norm: rms_norm(hd, t.rms_norm_eps, attn.pp("q_norm"))?,
            k_norm: rms_norm(hd, t.rms_norm_eps, attn.pp("k_norm"))?,
            gate_up: stacked(&[
                linear_no_bias(h, t.intermediate_size, vb.pp("mlp.gate_proj"))?,
                linear_no_bias(h, t.intermediate_size, vb.pp("mlp.up_proj"))?,
            ])?,
            down: Proj::new(linear_no_bias(t.intermediate_size, h, vb.pp("mlp.down_proj"))?),
            heads: t.num_attention_heads,
            kv_heads: t.num_key_value_heads,
            head_dim: hd,
            cache: None,
        })
    }

    /// `xs`: (1, tokens, hidden); `cos`/`sin`: (tokens, head_dim); `mask`: causal mask for
    /// the new tokens over cached + new keys (None for a single token).
    fn forward(&mut self, xs: &Tensor, cos: &Tensor, sin: &Tensor, mask: Option<&Tensor>) -> candle_core::Result<Tensor> {
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
        let rope = |t: Tensor| -> candle_core::Result<Tensor> { t.broadcast_mul(cos)? + rotate_half(&t)?.broadcast_mul(sin)? };
        let q = rope(heads(0, self.heads, Some(&self.q_norm))?)?;
        let k = rope(heads(self.heads, self.kv_heads, Some(&self.k_norm))?)?;
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
            scores = scores.reshape((b, self.kv_heads, group, n, total))?.broadcast_add(mask)?.reshape((b, self.kv_heads, group * n, total))?;
        }
        let attn = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
        let attn = attn.reshape((b, self.heads, n, self.head_dim))?.transpose(1, 2)?.reshape((b, n, self.heads * self.head_dim))?;
        let xs = (xs + self.o_proj.forward(&attn)?)?;
        let normed = self.post_norm.forward(&xs)?;
        let gate_up = self.gate_up.forward(&normed)?;
        let half = gate_up.dim(2)? / 2;
        let mlp = self.down.forward(&(candle_nn::ops::silu(&gate_up.narrow(2, 0, half)?)? * gate_up.narrow(2, half, half)?)?)?;
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
}

impl TextModel {
    pub fn new(config: &Config, vb: VarBuilder) -> candle_core::Result<TextModel> {
        let t = &config.text_config;
        let lm = vb.pp("model.language_model");
        let embed = embedding(t.vocab_size, t.hidden_size, lm.pp("embed_tokens"))?;
        let layers = (0..t.num_hidden_layers).map(|i| Layer::new(config, lm.pp(format!("layers.{i}")))).collect::<candle_core::Result<_>>()?;
        let lm_head = Proj::new(if config.tie_word_embeddings() {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            linear_no_bias(t.hidden_size, t.vocab_size, vb.pp("lm_head"))?
        });
        let theta = config.rope_theta();
        let inv_freq = (0..t.head_dim).step_by(2).map(|i| 1.0 / theta.powf(i as f64 / t.head_dim as f64) as f32).collect();
        Ok(TextModel { embed, layers, norm: rms_norm(t.hidden_size, t.rms_norm_eps, lm.pp("norm"))?, lm_head, inv_freq, mrope_section: config.mrope_section() })
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

    /// cos and sin (tokens, head_dim) for positions given as [time, row, column] per token: the
    /// frequency pairs cycle t, h, w (the first `3 × section[1]` and `3 × section[2]` of them;
    /// the rest follow time).
    fn rotary(&self, positions: &[[i64; 3]], device: &Device, dtype: DType) -> candle_core::Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut angles = Vec::with_capacity(positions.len() * half);
        for pos in positions {
            for (j, f) in self.inv_freq.iter().enumerate() {
                let axis = if j % 3 == 1 && j < self.mrope_section[1] * 3 {
                    1
                } else if j % 3 == 2 && j < self.mrope_section[2] * 3 {
                    2
                } else {
                    0
                };
                angles.push(pos[axis] as f32 * f);
            }
        }
        let angles = Tensor::from_vec(angles, (positions.len(), half), device)?;
        let angles = Tensor::cat(&[&angles, &angles], D::Minus1)?;
        Ok((angles.cos()?.to_dtype(dtype)?, angles.sin()?.to_dtype(dtype)?))
    }

    /// Runs new tokens through the decoder (after those in the cache) and returns the logits of
    /// every new token (1, tokens, vocab) or only the last (1, 1, vocab).
    /// `visual`: positions (within the new tokens) of image tokens and the DeepStack features
    /// to add at them.
    pub fn forward(&mut self, embeds: Tensor, positions: &[[i64; 3]], visual: Option<(&[usize], &[Tensor])>, all_logits: bool) -> candle_core::Result<Tensor> {
        let (_, n, _) = embeds.dims3()?;
        let device = embeds.device().clone();
        let dtype = embeds.dtype();
        let (cos, sin) = self.rotary(positions, &device, dtype)?;
        let past = self.cached_tokens();
        let mask = if n > 1 {
            let values: Vec<f32> = (0..n).flat_map(|i| (0..past + n).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })).collect();
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
