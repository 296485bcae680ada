//! Pieces the vision encoders share (Qwen3-VL's ViT, PaddleOCR-VL's SigLIP): pre-norm blocks with
//! 2-D rotary attention over all the image's patches, the rotary angles for (row, column)
//! positions, and the bilinear taps that resample a square table of learned position embeddings
//! to the image's grid.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{layer_norm, linear, LayerNorm, LayerNormConfig, Linear, VarBuilder};

use super::decoder::rotate_half;
use crate::nn::elementwise::{unary, Unary};
use crate::nn::product::gemm_on_this_thread;

/// Layer norm with the encoders' epsilon (1e-6).
pub fn ln(size: usize, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    layer_norm(size, LayerNormConfig { eps: 1e-6, ..Default::default() }, vb)
}

/// One encoder block: norm, attention (q, k, v as one product), norm, GELU (tanh) MLP.
pub struct Block {
    pub norm1: LayerNorm,
    pub norm2: LayerNorm,
    pub qkv: Linear,
    pub proj: Linear,
    pub fc1: Linear,
    pub fc2: Linear,
    pub heads: usize,
}

impl Block {
    /// SigLIP's names: `layer_norm1`, `self_attn.{q,k,v,out}_proj`, `mlp.fc1`, `layer_norm2`,
    /// `mlp.fc2`; q, k and v are stacked into one matrix here.
    pub fn siglip(hidden: usize, intermediate: usize, heads: usize, vb: VarBuilder) -> candle_core::Result<Block> {
        let attn = vb.pp("self_attn");
        let parts = ["q_proj", "k_proj", "v_proj"].map(|p| linear(hidden, hidden, attn.pp(p)));
        let [q, k, v] = parts;
        let (q, k, v) = (q?, k?, v?);
        let weight = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
        let bias = match (q.bias(), k.bias(), v.bias()) {
            (Some(a), Some(b), Some(c)) => Some(Tensor::cat(&[a, b, c], 0)?),
            _ => None,
        };
        Ok(Block {
            norm1: ln(hidden, vb.pp("layer_norm1"))?,
            norm2: ln(hidden, vb.pp("layer_norm2"))?,
            qkv: Linear::new(weight, bias),
            proj: linear(hidden, hidden, attn.pp("out_proj"))?,
            fc1: linear(hidden, intermediate, vb.pp("mlp.fc1"))?,
            fc2: linear(intermediate, hidden, vb.pp("mlp.fc2"))?,
            heads,
        })
    }

    /// `xs`: (patches, hidden) of one image; every patch attends to every other.
    pub fn forward(&self, xs: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
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
        let attn = attention(&q, &k, &v, (head_dim as f64).powf(-0.5))?;
        let attn = attn.transpose(0, 1)?.reshape((n, hidden))?;
        let xs = (xs + self.proj.forward(&attn)?)?;
        let hidden = self.fc1.forward(&self.norm2.forward(&xs)?)?;
        let hidden = if hidden.dtype() == DType::F32 { unary(&hidden, Unary::GeluTanh)? } else { hidden.gelu()? };
        let mlp = self.fc2.forward(&hidden)?;
        xs + mlp
    }
}

/// softmax(q kᵀ · scale) v for (heads, patches, head_dim) tensors, every patch attending to every
/// other. In f32 each head runs on its own core as two matrix products with the softmax between
/// them, in place (candle's batched product and softmax took 3× as long on a 1,300-patch image);
/// other dtypes go through candle.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> candle_core::Result<Tensor> {
    if q.dtype() != DType::F32 || !q.device().is_cpu() {
        let scores = (q.matmul(&k.t()?)? * scale)?;
        return candle_nn::ops::softmax_last_dim(&scores)?.matmul(v);
    }
    use rayon::prelude::*;
    let (heads, n, d) = q.dims3()?;
    let (q, k, v) =
        (q.flatten_all()?.to_vec1::<f32>()?, k.flatten_all()?.to_vec1::<f32>()?, v.flatten_all()?.to_vec1::<f32>()?);
    let mut out = vec![0f32; heads * n * d];
    out.par_chunks_mut(n * d).enumerate().for_each(|(h, out)| {
        let (q, k, v) =
            (&q[h * n * d..(h + 1) * n * d], &k[h * n * d..(h + 1) * n * d], &v[h * n * d..(h + 1) * n * d]);
        let mut scores = vec![0f32; n * n];
        // SAFETY: scores is n x n, q and k are n x d, all row-major; k is read transposed
        // (column stride d, row stride 1).
        unsafe {
            gemm_on_this_thread(
                n,
                n,
                d,
                (scores.as_mut_ptr(), n as isize),
                (q.as_ptr(), d as isize, 1),
                (k.as_ptr(), 1, d as isize),
                scale as f32,
            )
        };
        for row in scores.chunks_mut(n) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for x in row.iter_mut() {
                *x = (*x - max).exp();
                sum += *x;
            }
            let inv = 1.0 / sum;
            row.iter_mut().for_each(|x| *x *= inv);
        }
        // SAFETY: out is n x d, scores n x n, v n x d, all row-major.
        unsafe {
            gemm_on_this_thread(
                n,
                d,
                n,
                (out.as_mut_ptr(), d as isize),
                (scores.as_ptr(), n as isize, 1),
                (v.as_ptr(), d as isize, 1),
                1.0,
            )
        };
    });
    Tensor::from_vec(out, (heads, n, d), &Device::Cpu)
}

/// 2-D rotary angles (cos, sin), each (patches, head_dim): a quarter of the head for rows, a
/// quarter for columns, twice.
pub fn rotary(
    positions: &[(usize, usize)],
    head_dim: usize,
    theta: f64,
    device: &Device,
    dtype: DType,
) -> candle_core::Result<(Tensor, Tensor)> {
    let spatial = head_dim / 2;
    let inv_freq: Vec<f32> =
        (0..spatial).step_by(2).map(|i| 1.0 / theta.powf(i as f64 / spatial as f64) as f32).collect();
    let mut angles = Vec::with_capacity(positions.len() * spatial);
    for &(row, col) in positions {
        angles.extend(inv_freq.iter().map(|f| row as f32 * f));
        angles.extend(inv_freq.iter().map(|f| col as f32 * f));
    }
    let angles = Tensor::from_vec(angles, (positions.len(), spatial), device)?;
    let angles = Tensor::cat(&[&angles, &angles], D::Minus1)?;
    Ok((angles.cos()?.to_dtype(dtype)?, angles.sin()?.to_dtype(dtype)?))
}

/// Bilinear taps into a `side` × `side` table for each (row, col) of a `grid_h` × `grid_w` grid:
/// indices (patches × 4) and weights (patches, 4), as transformers'
/// `get_vision_interpolation_indices_and_weights` (edges clamped).
pub fn position_taps(
    positions: &[(usize, usize)],
    grid_h: usize,
    grid_w: usize,
    side: usize,
    align_corners: bool,
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let axis = |i: usize, size: usize| -> ([usize; 2], [f32; 2]) {
        let src = if align_corners {
            i as f32 * (side - 1) as f32 / (size.max(2) - 1) as f32
        } else {
            (i as f32 + 0.5) * side as f32 / size as f32 - 0.5
        };
        let floor = src.floor();
        let d = src - floor;
        let tap = |o: f32| (floor + o).clamp(0.0, (side - 1) as f32) as usize;
        ([tap(0.0), tap(1.0)], [1.0 - d, d])
    };
    let (mut index, mut weight) = (Vec::with_capacity(positions.len() * 4), Vec::with_capacity(positions.len() * 4));
    for &(row, col) in positions {
        let (ht, hw) = axis(row, grid_h);
        let (wt, ww) = axis(col, grid_w);
        for a in 0..2 {
            for b in 0..2 {
                index.push((ht[a] * side + wt[b]) as u32);
                weight.push(hw[a] * ww[b]);
            }
        }
    }
    let n = positions.len();
    Ok((Tensor::from_vec(index, n * 4, device)?, Tensor::from_vec(weight, (n, 4), device)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_kernel_matches_candles_products_and_softmax() {
        let dev = Device::Cpu;
        let (q, k, v) = (
            Tensor::randn(0f32, 1.0, (3, 70, 8), &dev).unwrap(),
            Tensor::randn(0f32, 1.0, (3, 70, 8), &dev).unwrap(),
            Tensor::randn(0f32, 1.0, (3, 70, 8), &dev).unwrap(),
        );
        let ours = attention(&q, &k, &v, 0.35).unwrap();
        let scores = (q.matmul(&k.t().unwrap()).unwrap() * 0.35).unwrap();
        let want = candle_nn::ops::softmax_last_dim(&scores).unwrap().matmul(&v).unwrap();
        let diff = (ours - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
    }
}
