//! CPU kernels the graph runner adds to candle: a direct depthwise convolution, and a fused
//! epilogue (per-channel bias, then an activation) run in one parallel pass over the output.

use candle_core::{CpuStorage, CustomOp2, InplaceOp1, Layout, Shape};
use rayon::prelude::*;

/// An activation fused into the operation before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Identity,
    Relu,
    /// x * clip(x + 3, 0, 6) / 6
    HardSwish,
}

impl Act {
    #[inline]
    fn apply(self, x: f32) -> f32 {
        match self {
            Act::Identity => x,
            Act::Relu => x.max(0.0),
            Act::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0),
        }
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { candle_core::bail!("expected an f32 tensor") };
    let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    Ok(&v[a..b])
}

/// Finish each channel plane: add its bias, apply the activation.
fn finish(out: &mut [f32], plane: usize, channels: usize, bias: Option<&[f32]>, act: Act) {
    if bias.is_none() && act == Act::Identity {
        return;
    }
    out.par_chunks_mut(plane).enumerate().for_each(|(nc, o)| {
        let b = bias.map_or(0.0, |b| b[nc % channels]);
        with_simd(|| {
            for v in o.iter_mut() {
                *v = act.apply(*v + b);
            }
        })
    });
}

/// acc += k * v
#[inline]
fn axpy(acc: &mut [f32], k: f32, v: &[f32]) {
    with_simd(|| {
        for (a, &x) in acc.iter_mut().zip(v) {
            *a = x.mul_add(k, *a);
        }
    })
}

/// Run a loop compiled for AVX2 and FMA when the CPU has them (the build targets plain
/// x86-64, whose SSE2 is half as wide and has no fused multiply-add); as it is elsewhere.
#[inline(always)]
fn with_simd(f: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide(f: impl FnOnce()) {
            f()
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features were just detected on this CPU.
            return unsafe { wide(f) };
        }
    }
    f()
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

/// Depthwise 2-D convolution (one k x k filter per channel) with its bias and activation.
pub struct Depthwise {
    pub stride: usize,
    pub pad: usize,
    pub bias: Option<Vec<f32>>,
    pub act: Act,
}

impl CustomOp2 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise-conv2d"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w) = (contiguous(xs, xl)?, contiguous(ws, wl)?);
        let (n, c, h, wd) = xl.shape().dims4()?;
        let (_, _, kh, kw) = wl.shape().dims4()?;
        let (s, p) = (self.stride, self.pad);
        let ho = (h + 2 * p).saturating_sub(kh) / s + 1;
        let wo = (wd + 2 * p).saturating_sub(kw) / s + 1;
        let mut out = vec![0f32; n * c * ho * wo];
        out.par_chunks_mut(ho * wo).enumerate().for_each(|(nc, o)| {
            let filter = &w[(nc % c) * kh * kw..(nc % c + 1) * kh * kw];
            let phases = Phases::new(&x[nc * h * wd..(nc + 1) * h * wd], h, wd, s, p, ho + kh / s + 1);
            // Every tap is one long multiply-add over the whole output (at the phase pitch).
            let mut acc = vec![0f32; ho * phases.pitch];
            for ky in 0..kh {
                for kx in 0..kw {
                    let k = filter[ky * kw + kx];
                    let (plane, offset) = phases.tap(ky, kx);
                    axpy(&mut acc, k, &plane[offset..offset + ho * phases.pitch]);
                }
            }
            for (row, src) in o.chunks_exact_mut(wo).zip(acc.chunks_exact(phases.pitch)) {
                row.copy_from_slice(&src[..wo]);
            }
        });
        finish(&mut out, ho * wo, c, self.bias.as_deref(), self.act);
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// A zero-padded input plane split into its stride phases: phase (ry, rx) holds the padded
/// pixels at rows ry, ry+s, ... and columns rx, rx+s, ..., `pitch` wide. Tap (ky, kx) of
/// output (oy, ox) is then phase (ky % s, kx % s) at row oy + ky / s, column ox + kx / s.
pub struct Phases {
    planes: Vec<Vec<f32>>,
    pitch: usize,
    stride: usize,
}

impl Phases {
    pub fn new(plane: &[f32], h: usize, w: usize, stride: usize, pad: usize, rows: usize) -> Self {
        let pitch = (w + 2 * pad).div_ceil(stride) + 1;
        let mut planes = Vec::with_capacity(stride * stride);
        for ry in 0..stride {
            for rx in 0..stride {
                let mut out = vec![0f32; (rows + 1) * pitch];
                for yy in 0..rows {
                    let iy = (yy * stride + ry) as isize - pad as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                    let dst = &mut out[yy * pitch..(yy + 1) * pitch];
                    // Columns xx whose source column xx*stride + rx - pad lies in the row.
                    let lo = (pad.saturating_sub(rx)).div_ceil(stride);
                    if lo >= pitch || lo * stride + rx - pad >= w {
                        continue;
                    }
                    let first = lo * stride + rx - pad;
                    if stride == 1 {
                        let n = (w - first).min(pitch - lo);
                        dst[lo..lo + n].copy_from_slice(&src[first..first + n]);
                    } else {
                        for (d, &v) in dst[lo..].iter_mut().zip(src[first..].iter().step_by(stride)) {
                            *d = v;
                        }
                    }
                }
                planes.push(out);
            }
        }
        Phases { planes, pitch, stride }
    }

    /// The phase plane and the offset of output (0, 0)'s tap (ky, kx) in it.
    pub fn tap(&self, ky: usize, kx: usize) -> (&[f32], usize) {
        let s = self.stride;
        (&self.planes[(ky % s) * s + kx % s], (ky / s) * self.pitch + kx / s)
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }
}

/// im2col for a full convolution: rows (channel, ky, kx), columns the output pixels.
pub fn im2col(x: &[f32], c: usize, h: usize, w: usize, k: usize, stride: usize, pad: usize) -> (Vec<f32>, usize, usize) {
    let ho = (h + 2 * pad).saturating_sub(k) / stride + 1;
    let wo = (w + 2 * pad).saturating_sub(k) / stride + 1;
    let mut cols = vec![0f32; c * k * k * ho * wo];
    cols.par_chunks_mut(k * k * ho * wo).enumerate().for_each(|(ch, dst)| {
        let phases = Phases::new(&x[ch * h * w..(ch + 1) * h * w], h, w, stride, pad, ho + k / stride + 1);
        for ky in 0..k {
            for kx in 0..k {
                let (plane, offset) = phases.tap(ky, kx);
                let row = &mut dst[(ky * k + kx) * ho * wo..(ky * k + kx + 1) * ho * wo];
                for (oy, r) in row.chunks_exact_mut(wo).enumerate() {
                    let start = offset + oy * phases.pitch();
                    r.copy_from_slice(&plane[start..start + wo]);
                }
            }
        }
    });
    (cols, ho, wo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn depthwise_matches_candle_grouped_conv() {
        for (stride, pad, k) in [(1, 2, 5), (2, 2, 5), (1, 1, 3), (2, 1, 3)] {
            let (c, h, w) = (3, 9, 7);
            let x = Tensor::arange(0f32, (c * h * w) as f32, &Device::Cpu).unwrap().reshape((1, c, h, w)).unwrap().affine(0.01, -0.3).unwrap();
            let wt = Tensor::arange(0f32, (c * k * k) as f32, &Device::Cpu).unwrap().reshape((c, 1, k, k)).unwrap().affine(0.05, -0.5).unwrap();
            let ours = x.apply_op2_no_bwd(&wt, &Depthwise { stride, pad, bias: None, act: Act::Identity }).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, c).unwrap();
            assert_eq!(ours.dims(), reference.dims());
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "stride {stride} pad {pad} k {k}: diff {diff}");
        }
    }

    #[test]
    fn im2col_and_a_product_match_candle_conv() {
        for (stride, pad) in [(1, 1), (2, 1), (2, 0)] {
            let (c, h, w, k, o) = (2, 7, 6, 3, 4);
            let x = Tensor::arange(0f32, (c * h * w) as f32, &Device::Cpu).unwrap().reshape((1, c, h, w)).unwrap().affine(0.02, -0.3).unwrap();
            let wt = Tensor::arange(0f32, (o * c * k * k) as f32, &Device::Cpu).unwrap().reshape((o, c, k, k)).unwrap().affine(0.03, -0.4).unwrap();
            let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let (cols, ho, wo) = im2col(&data, c, h, w, k, stride, pad);
            let cols = Tensor::from_vec(cols, (c * k * k, ho * wo), &Device::Cpu).unwrap();
            let ours = wt.reshape((o, c * k * k)).unwrap().matmul(&cols).unwrap().reshape((1, o, ho, wo)).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, 1).unwrap();
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "stride {stride} pad {pad}: diff {diff}");
        }
    }

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
