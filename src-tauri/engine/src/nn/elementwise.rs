//! Element-wise functions on all cores. candle's CPU element-wise operators run on one thread;
//! for the costly ones (erf, GELU, sigmoid) splitting the work pays. (Cheap binary operators
//! are limited by memory, not arithmetic: there the gain comes from fusing them away.)

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, Device, Storage, Tensor};
use rayon::prelude::*;

use super::kernels::with_simd;

/// Elements given to one task at a time.
const BLOCK: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unary {
    Erf,
    Sigmoid,
    Relu,
    /// x * (1 + erf(x / sqrt 2)) / 2, recognised from its five nodes.
    Gelu,
    /// GELU's tanh approximation (`gelu_pytorch_tanh`, the vision encoders').
    GeluTanh,
}

/// `f` of every element of `x`.
pub(crate) fn unary(x: &Tensor, f: Unary) -> candle_core::Result<Tensor> {
    // One loop compiled per function (a function pointer would keep the loops from vectorising).
    match f {
        Unary::Erf => map(x, erf),
        Unary::Sigmoid => map(x, |x| 1.0 / (1.0 + (-x).exp())),
        Unary::Relu => map(x, |x| x.max(0.0)),
        Unary::Gelu => map(x, gelu),
        Unary::GeluTanh => map(x, gelu_tanh),
    }
}

/// 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), with tanh(u) = 1 − 2 / (e^{2u} + 1).
#[inline]
fn gelu_tanh(x: f32) -> f32 {
    let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    let tanh = 1.0 - 2.0 / ((2.0 * u).exp() + 1.0);
    0.5 * x * (1.0 + tanh)
}

/// erf to float precision (Abramowitz and Stegun 7.1.26, error below 1.5e-7), several times
/// faster than candle's, which goes through f64.
#[inline]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    (1.0 - poly * (-a * a).exp()).copysign(x)
}

#[inline]
pub(super) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32 + Sync + Copy) -> candle_core::Result<Tensor> {
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let Storage::Cpu(CpuStorage::F32(v)) = &*storage else { candle_core::bail!("expected an f32 tensor on the CPU") };
    let Some((start, end)) = layout.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    let v = &v[start..end];
    let mut out: Vec<f32> = Vec::with_capacity(v.len());
    // Written without zeroing first (zeroing a fresh buffer cost more than the work).
    out.spare_capacity_mut()[..v.len()].par_chunks_mut(BLOCK).zip(v.par_chunks(BLOCK)).for_each(|(o, i)| {
        with_simd(|| o.iter_mut().zip(i).for_each(|(o, &i): (&mut MaybeUninit<f32>, &f32)| _ = o.write(f(i))));
    });
    // SAFETY: every element up to v.len() was written just above.
    unsafe { out.set_len(v.len()) };
    drop(storage);
    Tensor::from_vec(out, x.shape(), &Device::Cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_candle() {
        let x = Tensor::randn(0f32, 2.0, (3, 50_000), &Device::Cpu).unwrap();
        let gelu = ((x.clone() * 0.5).unwrap() * ((x.clone() / std::f64::consts::SQRT_2).unwrap().erf().unwrap() + 1.0).unwrap()).unwrap();
        for (f, want) in [(Unary::Erf, x.erf().unwrap()), (Unary::Relu, x.relu().unwrap()), (Unary::Gelu, gelu), (Unary::GeluTanh, x.gelu().unwrap())] {
            let got = unary(&x, f).unwrap();
            assert_eq!(got.dims(), x.dims());
            let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-6 * 4.0, "{f:?}: {diff}");
        }
    }
}
