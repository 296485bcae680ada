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
    /// x * (1 + erf(x / sqrt 2)) / 2
    Gelu,
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { candle_core::bail!("expected an f32 tensor") };
    let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    Ok(&v[a..b])
}

/// Finish each channel plane: add its bias, apply the activation.
fn finish(out: &mut [f32], plane: usize, channels: usize, bias: Option<&[f32]>, act: Act) {
    // One loop compiled per activation: a match inside the loop keeps it from vectorising.
    match act {
        Act::Identity if bias.is_none() => {}
        Act::Identity => finish_with(out, plane, channels, bias, |x| x),
        Act::Relu => finish_with(out, plane, channels, bias, |x| x.max(0.0)),
        Act::HardSwish => finish_with(out, plane, channels, bias, |x| x * (x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0)),
        Act::Gelu => finish_with(out, plane, channels, bias, super::elementwise::gelu),
    }
}

fn finish_with(out: &mut [f32], plane: usize, channels: usize, bias: Option<&[f32]>, f: impl Fn(f32) -> f32 + Sync + Copy) {
    out.par_chunks_mut(plane).enumerate().for_each(|(nc, o)| {
        let b = bias.map_or(0.0, |b| b[nc % channels]);
        with_simd(|| {
            for v in o.iter_mut() {
                *v = f(*v + b);
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
pub(super) fn with_simd(f: impl FnOnce()) {
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

/// Treat subnormal floats as zero on this thread and on rayon's worker threads (the MXCSR
/// flags FTZ and DAZ), as inference runtimes do: activations that decay into subnormals (as deep
/// in PP-OCR's detector) otherwise make every multiply on them a hundred times slower, and
/// values below 1e-38 change nothing a network computes. Set once per thread.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    {
        thread_local!(static SET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        #[allow(deprecated)] // _mm_setcsr: the flags have no other interface in std.
        fn set_flags() {
            SET.with(|set| {
                if !set.get() {
                    // SAFETY: only the flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags change.
                    unsafe { std::arch::x86_64::_mm_setcsr(std::arch::x86_64::_mm_getcsr() | 0x8040) };
                    set.set(true);
                }
            })
        }
        static POOL: std::sync::Once = std::sync::Once::new();
        POOL.call_once(|| {
            rayon::broadcast(|_| set_flags());
        });
        set_flags();
    }
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

/// A convolution's window: kernel, stride and padding (the same before and after) per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub kh: usize,
    pub kw: usize,
    pub sy: usize,
    pub sx: usize,
    pub py: usize,
    pub px: usize,
}

impl Window {
    pub fn square(k: usize, stride: usize, pad: usize) -> Self {
        Window { kh: k, kw: k, sy: stride, sx: stride, py: pad, px: pad }
    }
    /// Output height and width for an input of `h` x `w`.
    pub fn output(&self, h: usize, w: usize) -> (usize, usize) {
        ((h + 2 * self.py).saturating_sub(self.kh) / self.sy + 1, (w + 2 * self.px).saturating_sub(self.kw) / self.sx + 1)
    }
    pub fn is_pointwise(&self) -> bool {
        *self == Window::square(1, 1, 0)
    }
}

/// Depthwise 2-D convolution (one filter per channel) with its bias and activation.
pub struct Depthwise {
    pub window: Window,
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
        let g = self.window;
        let (kh, kw) = (g.kh, g.kw);
        let (ho, wo) = g.output(h, wd);
        let mut out = vec![0f32; n * c * ho * wo];
        out.par_chunks_mut(ho * wo).enumerate().for_each(|(nc, o)| {
            let filter = &w[(nc % c) * kh * kw..(nc % c + 1) * kh * kw];
            let phases = Phases::new(&x[nc * h * wd..(nc + 1) * h * wd], h, wd, &g, ho);
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
/// pixels at rows ry, ry+sy, ... and columns rx, rx+sx, ..., `pitch` wide. Tap (ky, kx) of
/// output (oy, ox) is then phase (ky % sy, kx % sx) at row oy + ky / sy, column ox + kx / sx.
pub struct Phases {
    planes: Vec<Vec<f32>>,
    pitch: usize,
    sy: usize,
    sx: usize,
}

impl Phases {
    /// Phases of `plane` (h x w) for window `g`, deep enough for `out_rows` output rows.
    pub fn new(plane: &[f32], h: usize, w: usize, g: &Window, out_rows: usize) -> Self {
        let (sy, sx, py, px) = (g.sy, g.sx, g.py, g.px);
        let rows = out_rows + g.kh / sy + 1;
        let pitch = (w + 2 * px).div_ceil(sx) + 1;
        let mut planes = Vec::with_capacity(sy * sx);
        for ry in 0..sy {
            for rx in 0..sx {
                let mut out = vec![0f32; (rows + 1) * pitch];
                for yy in 0..rows {
                    let iy = (yy * sy + ry) as isize - py as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                    let dst = &mut out[yy * pitch..(yy + 1) * pitch];
                    // Columns xx whose source column xx*sx + rx - px lies in the row.
                    let lo = (px.saturating_sub(rx)).div_ceil(sx);
                    if lo >= pitch || lo * sx + rx - px >= w {
                        continue;
                    }
                    let first = lo * sx + rx - px;
                    if sx == 1 {
                        let n = (w - first).min(pitch - lo);
                        dst[lo..lo + n].copy_from_slice(&src[first..first + n]);
                    } else {
                        for (d, &v) in dst[lo..].iter_mut().zip(src[first..].iter().step_by(sx)) {
                            *d = v;
                        }
                    }
                }
                planes.push(out);
            }
        }
        Phases { planes, pitch, sy, sx }
    }

    /// The phase plane and the offset of output (0, 0)'s tap (ky, kx) in it.
    pub fn tap(&self, ky: usize, kx: usize) -> (&[f32], usize) {
        (&self.planes[(ky % self.sy) * self.sx + kx % self.sx], (ky / self.sy) * self.pitch + kx / self.sx)
    }

    pub fn pitch(&self) -> usize {
        self.pitch
    }
}

/// Floats of im2col columns one band may hold (1 MiB: the band stays in a core's cache).
const BAND_FLOATS: usize = 256 * 1024;

/// A full convolution (no groups) of one image, `c` x `h` x `w`, by `weight` (`out_c` rows of
/// c * kh * kw): im2col then a matrix product, a band of output rows at a time. Each band's
/// columns stay in cache and bands run in parallel, each product on one thread; a whole-image
/// im2col buffer ran to 254 MB for one layer of the text detector and cost more than the product.
/// Returns the output (`out_c` planes of ho x wo) and its size.
pub fn conv_banded(x: &[f32], c: usize, h: usize, w: usize, g: &Window, weight: &[f32], out_c: usize) -> (Vec<f32>, usize, usize) {
    let (kh, kw) = (g.kh, g.kw);
    let (ho, wo) = g.output(h, w);
    let k = c * kh * kw;
    debug_assert_eq!(weight.len(), out_c * k);
    let phases: Vec<Phases> = (0..c).into_par_iter().map(|ch| Phases::new(&x[ch * h * w..(ch + 1) * h * w], h, w, g, ho)).collect();
    let mut out = vec![0f32; out_c * ho * wo];
    let rows = (BAND_FLOATS / (k * wo).max(1)).clamp(1, ho.max(1));
    let dst = SharedOut(out.as_mut_ptr());
    (0..ho.div_ceil(rows)).into_par_iter().for_each(|band| {
        let (oy0, oy1) = (band * rows, ((band + 1) * rows).min(ho));
        let n = (oy1 - oy0) * wo;
        let mut cols = vec![0f32; k * n];
        for (ch, ph) in phases.iter().enumerate() {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (plane, offset) = ph.tap(ky, kx);
                    let row = &mut cols[((ch * kh + ky) * kw + kx) * n..][..n];
                    for (oy, r) in (oy0..oy1).zip(row.chunks_exact_mut(wo)) {
                        let start = offset + oy * ph.pitch();
                        r.copy_from_slice(&plane[start..start + wo]);
                    }
                }
            }
        }
        // SAFETY: the band writes output rows oy0..oy1 of every channel (row stride ho * wo),
        // which no other band touches; weight is out_c x k and cols k x n, both row-major.
        unsafe {
            gemm::gemm(
                out_c,
                n,
                k,
                dst.at(oy0 * wo),
                1,
                (ho * wo) as isize,
                false,
                weight.as_ptr(),
                1,
                k as isize,
                cols.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        };
    });
    (out, ho, wo)
}

/// The output buffer, shared by bands that write disjoint parts of it.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: bands write disjoint rows (see conv_banded).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: callers stay within the buffer.
        unsafe { self.0.add(offset) }
    }
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
            let ours = x.apply_op2_no_bwd(&wt, &Depthwise { window: Window::square(k, stride, pad), bias: None, act: Act::Identity }).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, c).unwrap();
            assert_eq!(ours.dims(), reference.dims());
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "stride {stride} pad {pad} k {k}: diff {diff}");
        }
    }

    #[test]
    fn banded_convolution_matches_candle_conv() {
        // The last case is large enough for several bands of output rows (K = 144, 50 wide).
        for (stride, pad, (c, h, w, k, o)) in [(1, 1, (2, 7, 6, 3, 4)), (2, 1, (2, 7, 6, 3, 4)), (2, 0, (2, 7, 6, 3, 4)), (1, 1, (16, 300, 50, 3, 5))] {
            let x = Tensor::arange(0f32, (c * h * w) as f32, &Device::Cpu).unwrap().reshape((1, c, h, w)).unwrap().affine(0.02, -0.3).unwrap();
            let wt = Tensor::arange(0f32, (o * c * k * k) as f32, &Device::Cpu).unwrap().reshape((o, c, k, k)).unwrap().affine(0.03, -0.4).unwrap();
            let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let weight = wt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let (out, ho, wo) = conv_banded(&data, c, h, w, &Window::square(k, stride, pad), &weight, o);
            let ours = Tensor::from_vec(out, (1, o, ho, wo), &Device::Cpu).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, 1).unwrap();
            // Relative to the largest output (the large case sums big values).
            let scale = reference.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap().max(1.0);
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap() / scale;
            assert!(diff < 1e-5, "stride {stride} pad {pad} {c}x{h}x{w}: relative diff {diff}");
        }
    }

    #[test]
    fn uneven_windows_match_candle_on_the_equivalent_padded_input() {
        // Stride (2, 1), kernel 1 x 3, padding (0, 1): compare with candle on a zero-padded
        // input (no padding) and subsampled rows.
        let (c, h, w, o) = (2, 6, 5, 3);
        let x = Tensor::arange(0f32, (c * h * w) as f32, &Device::Cpu).unwrap().reshape((1, c, h, w)).unwrap().affine(0.05, -0.7).unwrap();
        let wt = Tensor::arange(0f32, (o * c * 3) as f32, &Device::Cpu).unwrap().reshape((o, c, 1, 3)).unwrap().affine(0.1, -0.9).unwrap();
        let g = Window { kh: 1, kw: 3, sy: 2, sx: 1, py: 0, px: 1 };
        let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let weight = wt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (out, ho, wo) = conv_banded(&data, c, h, w, &g, &weight, o);
        assert_eq!((ho, wo), (3, 5));
        let ours = Tensor::from_vec(out, (1, o, ho, wo), &Device::Cpu).unwrap();
        let padded = x.pad_with_zeros(3, 1, 1).unwrap();
        let full = padded.conv2d(&wt, 0, 1, 1, 1).unwrap(); // stride 1 everywhere
        let rows: Vec<Tensor> = (0..ho).map(|r| full.narrow(2, 2 * r, 1).unwrap()).collect();
        let reference = Tensor::cat(&rows, 2).unwrap();
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-4, "{diff}");
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
