//! Element-wise functions on all cores. candle's CPU element-wise operators run on one thread;
//! for the costly ones (erf, GELU, sigmoid) splitting the work pays. (Cheap binary operators
//! are limited by memory, not arithmetic: there the gain comes from fusing them away.)

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, DType, Device, Storage, Tensor};
use rayon::prelude::*;

use super::cpu::with_simd;

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
        Unary::Sigmoid => map(x, |x| 1.0 / (1.0 + exp(-x))),
        Unary::Relu => map(x, |x| x.max(0.0)),
        Unary::Gelu => map(x, gelu),
        Unary::GeluTanh => map(x, gelu_tanh),
    }
}

/// 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), with tanh(u) = 1 − 2 / (e^{2u} + 1).
#[inline]
fn gelu_tanh(x: f32) -> f32 {
    let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    let tanh = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
    0.5 * x * (1.0 + tanh)
}

/// erf to float precision (Abramowitz and Stegun 7.1.26, error below 1.5e-7), several times
/// faster than candle's, which goes through f64.
#[inline]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// e^x to float precision (relative error below 2e-7) in plain arithmetic, so that loops over
/// it vectorise; a call to the C library's expf per element cost a sixth of the recogniser's time.
#[inline]
pub(crate) fn exp(x: f32) -> f32 {
    // e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln 2 / 2; e^r by its Taylor polynomial.
    let x = x.clamp(-87.0, 88.0);
    // Rounded to the nearest integer by adding and taking away 1.5 * 2^23 (a call to floorf
    // would keep the loop from vectorising).
    let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    // ln 2 in two parts, so that n ln 2 is subtracted exactly.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// One row's softmax, compiled for AVX2 and FMA where the CPU has them. (Through `with_simd`
/// the closure stayed a separate function compiled for SSE2: only a function marked
/// `inline(always)` is sure to be inlined into the wider one.)
fn softmax_row(o: &mut [MaybeUninit<f32>], i: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide(o: &mut [MaybeUninit<f32>], i: &[f32]) {
            softmax_row_body(o, i)
        }
        if super::cpu::has_avx2_fma() {
            // SAFETY: the features were just detected on this CPU.
            return unsafe { wide(o, i) };
        }
    }
    softmax_row_body(o, i)
}

#[inline(always)]
fn softmax_row_body(o: &mut [MaybeUninit<f32>], i: &[f32]) {
    // Sixteen lanes each for the maximum and the sum, so both loops vectorise.
    let mut lanes = [f32::NEG_INFINITY; 16];
    let mut chunks = i.chunks_exact(16);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = l.max(v);
        }
    }
    let max = chunks.remainder().iter().chain(&lanes).fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut sums = [0f32; 16];
    for (oc, ic) in o.chunks_mut(16).zip(i.chunks(16)) {
        for ((o, &v), s) in oc.iter_mut().zip(ic).zip(&mut sums) {
            *s += *o.write(exp(v - max));
        }
    }
    // SAFETY: every element was written just above (f32 and MaybeUninit<f32> share a layout).
    let o = unsafe { &mut *(o as *mut [MaybeUninit<f32>] as *mut [f32]) };
    let scale = 1.0 / sums.iter().sum::<f32>();
    o.iter_mut().for_each(|v| *v *= scale);
}

/// Softmax over the last axis: each row's maximum, e^(x - max), divided by their sum; rows in
/// parallel.
pub(crate) fn softmax_last(x: &Tensor) -> candle_core::Result<Tensor> {
    let width = x.dims().last().copied().unwrap_or(1).max(1);
    let out = with_f32(x, |v| {
        let mut out: Vec<f32> = Vec::with_capacity(v.len());
        // Written without zeroing first, as in `map`: each row is written whole.
        out.spare_capacity_mut()[..v.len()]
            .par_chunks_mut(width)
            .zip(v.par_chunks(width))
            .for_each(|(o, i)| softmax_row(o, i));
        // SAFETY: every row was written just above.
        unsafe { out.set_len(v.len()) };
        out
    })?;
    Tensor::from_vec(out, x.shape(), &Device::Cpu)
}

/// `f(a, b)` element by element, on all cores, where `b` has `a`'s shape or holds one value per
/// block of `a` (its shape is a prefix of `a`'s followed by ones, as a per-channel scale
/// [n, c, 1, 1] or a scalar); None for other shapes. (candle's broadcasting operators hand
/// their work to a pool of their own whose spinning workers took the cores from the next step.)
pub(crate) fn zip_map(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f32, f32) -> f32 + Sync + Copy,
) -> candle_core::Result<Option<Tensor>> {
    let (ad, bd) = (a.dims(), b.dims());
    // b's dimensions aligned to a's from the right, ones in front.
    let bd: Vec<usize> = std::iter::repeat_n(1, ad.len().saturating_sub(bd.len())).chain(bd.iter().copied()).collect();
    if bd.len() != ad.len() {
        return Ok(None);
    }
    // The longest prefix b shares with a; past it b must be all ones.
    let p = ad.iter().zip(&bd).take_while(|(x, y)| x == y).count();
    let p = if bd[p..].iter().all(|&d| d == 1) {
        p
    } else if b.elem_count() == 1 {
        0
    } else {
        return Ok(None);
    };
    if a.dtype() != DType::F32 || b.dtype() != DType::F32 || !a.device().is_cpu() || !b.device().is_cpu() {
        return Ok(None);
    }
    let block: usize = ad[p..].iter().product::<usize>().max(1);
    let out = with_f32(a, |va| {
        with_f32(b, |vb| {
            let mut out: Vec<f32> = Vec::with_capacity(va.len());
            let spare = &mut out.spare_capacity_mut()[..va.len()];
            if block == 1 && vb.len() == va.len() {
                spare.par_chunks_mut(BLOCK).zip(va.par_chunks(BLOCK).zip(vb.par_chunks(BLOCK))).for_each(
                    |(o, (x, y))| {
                        with_simd(|| o.iter_mut().zip(x.iter().zip(y)).for_each(|(o, (&x, &y))| _ = o.write(f(x, y))))
                    },
                );
            } else {
                // One value of b per block of a (blocks of at least a few thousand go to a task each).
                let per_task = BLOCK.div_ceil(block).max(1) * block;
                spare.par_chunks_mut(per_task).zip(va.par_chunks(per_task)).enumerate().for_each(|(t, (o, x))| {
                    for (j, (o, x)) in o.chunks_mut(block).zip(x.chunks(block)).enumerate() {
                        let y = vb[t * per_task / block + j];
                        with_simd(|| o.iter_mut().zip(x).for_each(|(o, &x)| _ = o.write(f(x, y))));
                    }
                });
            }
            // SAFETY: every element up to va.len() was written just above.
            unsafe { out.set_len(va.len()) };
            out
        })
    })??;
    Tensor::from_vec(out, a.shape(), &Device::Cpu).map(Some)
}

#[inline]
pub(super) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32 + Sync + Copy) -> candle_core::Result<Tensor> {
    let out = with_f32(x, |v| {
        let mut out: Vec<f32> = Vec::with_capacity(v.len());
        // Written without zeroing first (zeroing a fresh buffer cost more than the work).
        out.spare_capacity_mut()[..v.len()].par_chunks_mut(BLOCK).zip(v.par_chunks(BLOCK)).for_each(|(o, i)| {
            with_simd(|| o.iter_mut().zip(i).for_each(|(o, &i): (&mut MaybeUninit<f32>, &f32)| _ = o.write(f(i))));
        });
        // SAFETY: every element up to v.len() was written just above.
        unsafe { out.set_len(v.len()) };
        out
    })?;
    Tensor::from_vec(out, x.shape(), &Device::Cpu)
}

/// `f` of a float tensor's values in order, read in place where they lie contiguous on the CPU.
pub(crate) fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match (&*storage, layout.contiguous_offsets()) {
        (Storage::Cpu(CpuStorage::F32(v)), Some((a, b))) => Ok(f(&v[a..b])),
        _ => candle_core::bail!("expected a float tensor on the CPU, got {:?} on {:?}", t.dtype(), t.device()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_float_precision() {
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let (got, want) = (exp(x), (x as f64).exp());
            assert!(((got as f64 - want) / want).abs() < 2e-7, "exp({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn softmax_matches_candle() {
        for width in [1, 7, 16, 37, 18_710] {
            // Fixed values spread over [-8, 8] (random ones made the test's margin vary by run).
            let x = (Tensor::arange(0f32, (3 * width) as f32, &Device::Cpu).unwrap().reshape((3, width)).unwrap()
                * 0.37)
                .unwrap()
                .sin()
                .unwrap()
                * 8.0;
            let x = x.unwrap();
            let ours: Vec<f32> = softmax_last(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let reference: Vec<f32> =
                candle_nn::ops::softmax_last_dim(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            // Relative to each value: both sum thousands of terms in floats, in different orders.
            let worst =
                ours.iter().zip(&reference).map(|(a, b)| (a - b).abs() / b.abs().max(1e-30)).fold(0f32, f32::max);
            assert!(worst < 1e-5, "width {width}: relative difference {worst}");
        }
    }

    #[test]
    fn zip_map_matches_candle_broadcasting() {
        let a = Tensor::randn(0f32, 1.0, (3, 5, 4, 700), &Device::Cpu).unwrap();
        for b_shape in [vec![3, 5, 4, 700], vec![3, 5, 1, 1], vec![1], vec![3, 1, 1, 1], vec![3, 5, 4, 1]] {
            let b = Tensor::randn(0f32, 1.0, b_shape.as_slice(), &Device::Cpu).unwrap();
            let ours = zip_map(&a, &b, |x, y| x - y).unwrap().expect("a shape it takes");
            let want = a.broadcast_sub(&b).unwrap();
            assert_eq!(
                ours.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                want.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                "{b_shape:?}"
            );
        }
        // Broadcasting along a middle axis, or from a: left to candle.
        for b_shape in [vec![1, 5, 1, 1], vec![3, 5, 4, 700, 2]] {
            let b = Tensor::randn(0f32, 1.0, b_shape.as_slice(), &Device::Cpu).unwrap();
            assert!(zip_map(&a, &b, |x, y| x + y).unwrap().is_none(), "{b_shape:?}");
        }
    }

    #[test]
    fn matches_candle() {
        let x = Tensor::randn(0f32, 2.0, (3, 50_000), &Device::Cpu).unwrap();
        let gelu = ((x.clone() * 0.5).unwrap()
            * ((x.clone() / std::f64::consts::SQRT_2).unwrap().erf().unwrap() + 1.0).unwrap())
        .unwrap();
        for (f, want) in [
            (Unary::Erf, x.erf().unwrap()),
            (Unary::Relu, x.relu().unwrap()),
            (Unary::Gelu, gelu),
            (Unary::GeluTanh, x.gelu().unwrap()),
        ] {
            let got = unary(&x, f).unwrap();
            assert_eq!(got.dims(), x.dims());
            let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-6 * 4.0, "{f:?}: {diff}");
        }
    }
}
