//! CPU kernels the graph runner adds to candle beside the convolutions (`conv`): activations
//! and the epilogue that applies a bias and one (in a parallel pass over an output, or as a
//! product stores its rows), max pooling, and transposed convolutions whose kernel equals
//! their stride.

use candle_core::{CpuStorage, CustomOp1, InplaceOp1, Layout, Shape};
use rayon::prelude::*;

use super::conv::pointwise;
use super::product::WeightMatrix;

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

pub(super) fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { candle_core::bail!("expected an f32 tensor") };
    let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    Ok(&v[a..b])
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
        Act::Gelu => finish_with(o, b, super::elementwise::gelu),
    }
}

fn finish_with(o: &mut [f32], b: f32, f: impl Fn(f32) -> f32) {
    with_simd(|| {
        for v in o.iter_mut() {
            *v = f(*v + b);
        }
    })
}

/// Whether this CPU has AVX2 and FMA, for the loops compiled with them (each caller keeps the
/// check inside its `cfg(target_arch = "x86_64")`).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
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
        if has_avx2_fma() {
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

/// Keep memory freed between a network's steps for the steps after it, as inference runtimes
/// keep an arena: glibc's malloc gives blocks above its mmap threshold (128 KiB at first, 32 MiB
/// at most) back to the kernel when they are freed, so every large activation was faulted in
/// and zeroed page by page again — a fifth of the text detector's time on a 2-core host. Now
/// every block comes from the heap, and the heap is not trimmed as blocks are freed (a limit of
/// 512 MiB gave back half the gain); [`release_freed_memory`] gives it back after a batch.
/// Set once per process; elsewhere than glibc, nothing to do.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes the allocator's settings (with no mmap'd blocks,
            // glibc still maps memory where its heap cannot grow).
            unsafe {
                libc::mallopt(libc::M_MMAP_MAX, 0);
                libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            }
        });
    }
}

/// Give the free memory kept by [`keep_freed_memory`] back to the system (after a batch of
/// documents, whose pages may have needed far more than whatever comes next).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
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

/// Max pooling, with "same" padding (extra at the end, SAME_UPPER) or none; padding never wins
/// a window (only the real pixels under it count).
pub struct MaxPool {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub same: bool,
}

impl MaxPool {
    /// Output size and padding before, on one axis of `n`.
    fn axis(&self, n: usize, k: usize, s: usize) -> (usize, usize) {
        if self.same {
            let out = n.div_ceil(s);
            (out, ((out - 1) * s + k).saturating_sub(n) / 2)
        } else {
            (n.saturating_sub(k) / s + 1, 0)
        }
    }
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "max-pool"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(xs, xl)?;
        let (n, c, h, w) = xl.shape().dims4()?;
        let ((kh, kw), (sy, sx)) = (self.kernel, self.stride);
        let ((ho, top), (wo, left)) = (self.axis(h, kh, sy), self.axis(w, kw, sx));
        // Each plane is copied into a frame of -inf as wide as the windows reach, so that every
        // tap is one pass along an output row.
        let (fh, fw) = ((ho - 1) * sy + kh, (wo - 1) * sx + kw);
        let mut out = vec![f32::NEG_INFINITY; n * c * ho * wo];
        out.par_chunks_mut(ho * wo).zip(x.par_chunks(h * w)).for_each(|(o, plane)| {
            let mut frame = vec![f32::NEG_INFINITY; fh * fw];
            for (y, row) in plane.chunks_exact(w).enumerate().take(fh.saturating_sub(top)) {
                let n = w.min(fw - left);
                frame[(y + top) * fw + left..][..n].copy_from_slice(&row[..n]);
            }
            for (oy, row) in o.chunks_exact_mut(wo).enumerate() {
                for ky in 0..kh {
                    let src = &frame[(oy * sy + ky) * fw..][..fw];
                    for kx in 0..kw {
                        if sx == 1 {
                            // Contiguous: the loop vectorises.
                            row.iter_mut().zip(&src[kx..]).for_each(|(v, &p)| *v = v.max(p));
                        } else {
                            row.iter_mut().zip(src[kx..].iter().step_by(sx)).for_each(|(v, &p)| *v = v.max(p));
                        }
                    }
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// A transposed convolution whose kernel equals its stride (k x k, no padding): each input
/// pixel becomes its own k x k tile of the output, so it is one product (a row per output
/// channel and tile position) and a scatter of those rows into the tiles. (candle's general
/// transposed convolution took a fifth of the text detector's time.)
#[derive(Debug)]
pub struct TiledTranspose {
    /// Row (co * k + ky) * k + kx, column ci: weight [ci, co, ky, kx].
    matrix: WeightMatrix,
    /// Each output channel's bias, repeated for its k x k rows.
    bias: Option<Vec<f32>>,
    k: usize,
}

impl TiledTranspose {
    /// From ONNX weights [c_in, c_out, k, k] and the output channels' bias.
    pub fn new(weight: &[f32], c_in: usize, c_out: usize, k: usize, bias: Option<&[f32]>) -> Self {
        let rows = c_out * k * k;
        let mut data = vec![0f32; rows * c_in];
        for ci in 0..c_in {
            for (r, &v) in weight[ci * rows..(ci + 1) * rows].iter().enumerate() {
                data[r * c_in + ci] = v;
            }
        }
        let bias = bias.map(|b| b.iter().flat_map(|&v| std::iter::repeat_n(v, k * k)).collect());
        TiledTranspose { matrix: WeightMatrix::new(data, rows, c_in), bias, k }
    }
}

impl CustomOp1 for TiledTranspose {
    fn name(&self) -> &'static str {
        "conv-transpose-tiled"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(xs, xl)?;
        let (n, c, h, w) = xl.shape().dims4()?;
        if c != self.matrix.depth() {
            candle_core::bail!("a transposed convolution of {} inputs got {c} channels", self.matrix.depth());
        }
        let k = self.k;
        let out_c = self.matrix.rows() / (k * k);
        let rows = pointwise(x, n, c, h * w, &self.matrix, self.bias.as_deref(), Act::Identity);
        let (ho, wo) = (h * k, w * k);
        let mut out = vec![0f32; n * out_c * ho * wo];
        // Output plane (image, co) gathers rows (co, ky, kx) of that image.
        out.par_chunks_mut(ho * wo).zip(rows.par_chunks(k * k * h * w)).for_each(|(o, tiles)| {
            for (t, row) in tiles.chunks_exact(h * w).enumerate() {
                let (ky, kx) = (t / k, t % k);
                for (y, src) in row.chunks_exact(w).enumerate() {
                    let dst = &mut o[(y * k + ky) * wo + kx..];
                    for (x, &v) in src.iter().enumerate() {
                        dst[x * k] = v;
                    }
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((n, out_c, ho, wo))))
    }
}

/// The output buffer, shared by bands that write disjoint parts of it.
#[derive(Clone, Copy)]
pub(crate) struct SharedOut(pub(crate) *mut f32);
// SAFETY: bands write disjoint rows (see conv_banded).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: callers stay within the buffer.
        unsafe { self.0.add(offset) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn max_pool_matches_candle_with_and_without_same_padding() {
        let x =
            Tensor::arange(0f32, 2.0 * 7.0 * 9.0, &Device::Cpu).unwrap().reshape((1, 2, 7, 9)).unwrap().sin().unwrap();
        for (k, s) in [(2, 1), (3, 2), (2, 2)] {
            let plain = x.apply_op1_no_bwd(&MaxPool { kernel: (k, k), stride: (s, s), same: false }).unwrap();
            let reference = x.max_pool2d_with_stride(k, s).unwrap();
            assert_eq!(
                plain.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                reference.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            );
            // Same padding: candle on the input padded with copies of its edges (never above a window's real maximum).
            let same = x.apply_op1_no_bwd(&MaxPool { kernel: (k, k), stride: (s, s), same: true }).unwrap();
            let mut padded = x.clone();
            for (axis, n) in [(2, 7), (3, 9)] {
                let total = ((n as usize).div_ceil(s) - 1) * s + k - n as usize;
                padded = padded.pad_with_same(axis, total / 2, total - total / 2).unwrap();
            }
            let reference = padded.max_pool2d_with_stride(k, s).unwrap();
            assert_eq!(same.dims(), reference.dims(), "k {k} s {s}");
            assert_eq!(
                same.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                reference.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            );
        }
    }

    #[test]
    fn tiled_transposed_convolution_matches_candle() {
        let (c_in, c_out, k, h, w) = (5, 3, 2, 4, 7);
        let x = Tensor::arange(0f32, (2 * c_in * h * w) as f32, &Device::Cpu)
            .unwrap()
            .reshape((2, c_in, h, w))
            .unwrap()
            .affine(0.01, -0.4)
            .unwrap();
        let wt = Tensor::arange(0f32, (c_in * c_out * k * k) as f32, &Device::Cpu)
            .unwrap()
            .reshape((c_in, c_out, k, k))
            .unwrap()
            .affine(0.02, -0.5)
            .unwrap();
        let bias = [0.1f32, -0.2, 0.3];
        let op = TiledTranspose::new(&wt.flatten_all().unwrap().to_vec1::<f32>().unwrap(), c_in, c_out, k, Some(&bias));
        let ours = x.apply_op1_no_bwd(&op).unwrap();
        let b = Tensor::new(&bias, &Device::Cpu).unwrap().reshape((1, c_out, 1, 1)).unwrap();
        let reference = x.conv_transpose2d(&wt, 0, 0, k, 1).unwrap().broadcast_add(&b).unwrap();
        assert_eq!(ours.dims(), reference.dims());
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
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
