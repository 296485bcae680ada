//! The end of a convolution or product: the bias added and an activation applied, in a
//! parallel pass over an output or row by row as a product stores them.

use candle_core::{CpuStorage, InplaceOp1, Layout};
use rayon::prelude::*;

use super::cpu::with_simd;
use super::elementwise::gelu;

/// An activation fused into the operation before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Identity,
    Relu,
    /// x * clip(x + 3, 0, 6) / 6
    HardSwish,
    /// x * (1 + erf(x / sqrt 2)) / 2
    Gelu,
}

/// Finish each channel plane: add its bias, apply the activation.
fn finish(out: &mut [f32], plane: usize, channels: usize, bias: Option<&[f32]>, act: Act) {
    if act == Act::Identity && bias.is_none() {
        return;
    }
    out.par_chunks_mut(plane)
        .enumerate()
        .for_each(|(nc, o)| finish_row(o, bias.map_or(0.0, |b| b[nc % channels]), act));
}

/// Bias and activation over `rows` rows of `n` floats at row stride `ldc`, on this thread.
///
/// # Safety
/// `c` must be writable for `rows` rows of `n` floats at stride `ldc`, and not in use elsewhere.
pub(super) unsafe fn finish_block(c: *mut f32, ldc: usize, rows: usize, n: usize, bias: Option<&[f32]>, act: Act) {
    for r in 0..rows {
        finish_row(std::slice::from_raw_parts_mut(c.add(r * ldc), n), bias.map_or(0.0, |b| b[r]), act);
    }
}

pub(super) fn finish_row(o: &mut [f32], b: f32, act: Act) {
    // One loop compiled per activation: a match inside the loop keeps it from vectorising.
    match act {
        Act::Identity if b == 0.0 => {}
        Act::Identity => finish_with(o, b, |x| x),
        Act::Relu => finish_with(o, b, |x| x.max(0.0)),
        Act::HardSwish => finish_with(o, b, |x| x * (x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0)),
        Act::Gelu => finish_with(o, b, gelu),
    }
}

fn finish_with(o: &mut [f32], b: f32, f: impl Fn(f32) -> f32) {
    with_simd(|| {
        for v in o.iter_mut() {
            *v = f(*v + b);
        }
    })
}

/// Bias and activation over an NCHW tensor, in one pass.
pub struct Epilogue {
    pub bias: Option<Vec<f32>>,
    pub act: Act,
}

impl InplaceOp1 for Epilogue {
    fn name(&self) -> &'static str {
        "bias-activation"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        let CpuStorage::F32(v) = s else { candle_core::bail!("expected an f32 tensor") };
        let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
        let (_, c, h, w) = l.shape().dims4()?;
        finish(&mut v[a..b], h * w, c, self.bias.as_deref(), self.act);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn epilogue_adds_bias_then_hardswish() {
        let x = Tensor::new(&[[[[-4f32, 0.0]], [[1.0, 3.0]]]], &Device::Cpu).unwrap();
        let y = x.copy().unwrap();
        y.inplace_op1(&Epilogue { bias: Some(vec![0.0, 1.0]), act: Act::HardSwish }).unwrap();
        let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        for (a, b) in v.iter().zip([0.0, 0.0, 2.0 * 5.0 / 6.0, 4.0]) {
            assert!((a - b).abs() < 1e-6, "{v:?}");
        }
    }
}
