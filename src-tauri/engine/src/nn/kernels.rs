//! CPU kernels the graph runner adds to candle: full convolutions as matrix products with their
//! bias and activation fused in, a direct depthwise convolution, and an epilogue (per-channel
//! bias, then an activation) run in one parallel pass over an output.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, InplaceOp1, Layout, Shape};
use rayon::prelude::*;

use super::product::{WeightMatrix, NR};

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
    if act == Act::Identity && bias.is_none() {
        return;
    }
    out.par_chunks_mut(plane).enumerate().for_each(|(nc, o)| finish_row(o, bias.map_or(0.0, |b| b[nc % channels]), act));
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

fn finish_row(o: &mut [f32], b: f32, act: Act) {
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

/// A full convolution (no groups) with its bias and activation: a 1x1 convolution is one
/// product per image (its input planes are the columns), others go through [`conv_banded`].
pub struct Convolution<'a> {
    pub matrix: &'a WeightMatrix,
    pub window: Window,
    pub bias: Option<&'a [f32]>,
    pub act: Act,
}

/// Output columns one task of a 1x1 convolution computes (its inputs stay in cache while all
/// the weights pass over them).
const POINTWISE_COLUMNS: usize = 4 * NR;

impl CustomOp1 for Convolution<'_> {
    fn name(&self) -> &'static str {
        "conv2d"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(xs, xl)?;
        let (n, c, h, w) = xl.shape().dims4()?;
        let out_c = self.matrix.rows();
        let g = &self.window;
        if self.matrix.depth() != c * g.kh * g.kw {
            candle_core::bail!("a convolution of {} inputs per output got {c} channels of {}x{} windows", self.matrix.depth(), g.kh, g.kw);
        }
        if !g.is_pointwise() {
            let (ho, wo) = g.output(h, w);
            let mut y = Vec::with_capacity(n * out_c * ho * wo);
            for image in x.chunks_exact(c * h * w) {
                y.extend(conv_banded(image, c, h, w, g, self.matrix, self.bias, self.act).0);
            }
            return Ok((CpuStorage::F32(y), Shape::from((n, out_c, ho, wo))));
        }
        Ok((CpuStorage::F32(pointwise(x, n, c, h * w, self.matrix, self.bias, self.act)), Shape::from((n, out_c, h, w))))
    }
}

/// A 1x1 convolution's product for `n` images of `c` planes of `plane` pixels: `matrix.rows()`
/// output planes per image, column blocks of the images in parallel.
fn pointwise(x: &[f32], n: usize, c: usize, plane: usize, matrix: &WeightMatrix, bias: Option<&[f32]>, act: Act) -> Vec<f32> {
    let out_c = matrix.rows();
    // Not zeroed first: the tasks below write every element.
    let mut out: Vec<f32> = Vec::with_capacity(n * out_c * plane);
    let dst = SharedOut(out.as_mut_ptr());
    let blocks = plane.div_ceil(POINTWISE_COLUMNS);
    (0..n * blocks).into_par_iter().for_each(|task| {
        let (image, j0) = (task / blocks, task % blocks * POINTWISE_COLUMNS);
        let cols = POINTWISE_COLUMNS.min(plane - j0);
        // SAFETY: the task reads columns j0.. of its image's c input planes and writes the
        // same columns of its out_c output planes, which no other task writes.
        unsafe { matrix.product(x[image * c * plane + j0..].as_ptr(), plane, cols, dst.at(image * out_c * plane + j0), plane, bias, act) };
    });
    // SAFETY: the tasks wrote all n x out_c planes, every column of each.
    unsafe { out.set_len(n * out_c * plane) };
    out
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

/// Floats of im2col columns one band may hold (1 MiB: the band stays in a core's cache).
const BAND_FLOATS: usize = 256 * 1024;

/// A full convolution (no groups) of one image, `c` x `h` x `w`, by `weight` (`out_c` rows of
/// c * kh * kw), with its bias and activation: im2col then a matrix product, a band of output
/// rows at a time. Each band's columns stay in cache and bands run in parallel, each product on
/// one thread; a whole-image im2col buffer ran to 254 MB for one layer of the text detector
/// and cost more than the product. Returns the output (`out_c` planes of ho x wo) and its size.
#[allow(clippy::too_many_arguments)]
pub fn conv_banded(x: &[f32], c: usize, h: usize, w: usize, g: &Window, weight: &WeightMatrix, bias: Option<&[f32]>, act: Act) -> (Vec<f32>, usize, usize) {
    let (kh, kw) = (g.kh, g.kw);
    let (ho, wo) = g.output(h, w);
    let k = c * kh * kw;
    let out_c = weight.rows();
    debug_assert_eq!(weight.depth(), k);
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
        // which no other band touches; cols is k x n, row-major.
        unsafe { weight.product(cols.as_ptr(), n, n, dst.at(oy0 * wo), ho * wo, bias, act) };
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
            let (out, ho, wo) = conv_banded(&data, c, h, w, &Window::square(k, stride, pad), &WeightMatrix::new(weight, o, c * k * k), None, Act::Identity);
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
        let (out, ho, wo) = conv_banded(&data, c, h, w, &g, &WeightMatrix::new(weight, o, c * 3), None, Act::Identity);
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
    fn max_pool_matches_candle_with_and_without_same_padding() {
        let x = Tensor::arange(0f32, 2.0 * 7.0 * 9.0, &Device::Cpu).unwrap().reshape((1, 2, 7, 9)).unwrap().sin().unwrap();
        for (k, s) in [(2, 1), (3, 2), (2, 2)] {
            let plain = x.apply_op1_no_bwd(&MaxPool { kernel: (k, k), stride: (s, s), same: false }).unwrap();
            let reference = x.max_pool2d_with_stride(k, s).unwrap();
            assert_eq!(plain.flatten_all().unwrap().to_vec1::<f32>().unwrap(), reference.flatten_all().unwrap().to_vec1::<f32>().unwrap());
            // Same padding: candle on the input padded with copies of its edges (never above a window's real maximum).
            let same = x.apply_op1_no_bwd(&MaxPool { kernel: (k, k), stride: (s, s), same: true }).unwrap();
            let mut padded = x.clone();
            for (axis, n) in [(2, 7), (3, 9)] {
                let total = ((n as usize).div_ceil(s) - 1) * s + k - n as usize;
                padded = padded.pad_with_same(axis, total / 2, total - total / 2).unwrap();
            }
            let reference = padded.max_pool2d_with_stride(k, s).unwrap();
            assert_eq!(same.dims(), reference.dims(), "k {k} s {s}");
            assert_eq!(same.flatten_all().unwrap().to_vec1::<f32>().unwrap(), reference.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        }
    }

    #[test]
    fn tiled_transposed_convolution_matches_candle() {
        let (c_in, c_out, k, h, w) = (5, 3, 2, 4, 7);
        let x = Tensor::arange(0f32, (2 * c_in * h * w) as f32, &Device::Cpu).unwrap().reshape((2, c_in, h, w)).unwrap().affine(0.01, -0.4).unwrap();
        let wt = Tensor::arange(0f32, (c_in * c_out * k * k) as f32, &Device::Cpu).unwrap().reshape((c_in, c_out, k, k)).unwrap().affine(0.02, -0.5).unwrap();
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
