//! Convolutions on the CPU: 1x1 ones as one product of the packed weights per column block,
//! larger ones as im2col then the same product a band of output rows at a time, depthwise ones
//! as a direct kernel; each with its bias and activation applied as it stores.

use std::cell::{Cell, RefCell};

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape};
use rayon::prelude::*;

use super::cpu::{contiguous, SharedOut};
use super::epilogue::{finish_row, Act};
use super::product::{WeightMatrix, NR};

/// A convolution's window: kernel, stride, and the zeros padded on each side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub kh: usize,
    pub kw: usize,
    pub sy: usize,
    pub sx: usize,
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Window {
    pub fn square(k: usize, stride: usize, pad: usize) -> Self {
        Window { kh: k, kw: k, sy: stride, sx: stride, top: pad, left: pad, bottom: pad, right: pad }
    }

    /// Output height and width for an input of `h` x `w`.
    pub fn output(&self, h: usize, w: usize) -> (usize, usize) {
        (
            (h + self.top + self.bottom).saturating_sub(self.kh) / self.sy + 1,
            (w + self.left + self.right).saturating_sub(self.kw) / self.sx + 1,
        )
    }

    pub fn is_pointwise(&self) -> bool {
        *self == Window::square(1, 1, 0)
    }
}

/// A full convolution (no groups) with its bias and activation: a 1x1 convolution is one
/// product per column block, others go through [`convolve`].
pub struct Convolution<'a> {
    pub matrix: &'a WeightMatrix,
    pub window: Window,
    pub bias: Option<&'a [f32]>,
    pub act: Act,
}

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
            candle_core::bail!(
                "a convolution of {} inputs per output got {c} channels of {}x{} windows",
                self.matrix.depth(),
                g.kh,
                g.kw
            );
        }
        if !g.is_pointwise() {
            let (ho, wo) = g.output(h, w);
            return Ok((
                CpuStorage::F32(convolve(x, n, c, h, w, g, self.matrix, self.bias, self.act)),
                Shape::from((n, out_c, ho, wo)),
            ));
        }
        Ok((
            CpuStorage::F32(pointwise(x, n, c, h * w, self.matrix, self.bias, self.act)),
            Shape::from((n, out_c, h, w)),
        ))
    }
}

/// Output columns one task of a 1x1 convolution computes (its inputs stay in cache while all
/// the weights pass over them).
const POINTWISE_COLUMNS: usize = 4 * NR;

/// A 1x1 convolution's product for `n` images of `c` planes of `plane` pixels: `matrix.rows()`
/// output planes per image, column blocks of the images in parallel.
pub(super) fn pointwise(
    x: &[f32],
    n: usize,
    c: usize,
    plane: usize,
    matrix: &WeightMatrix,
    bias: Option<&[f32]>,
    act: Act,
) -> Vec<f32> {
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
        unsafe {
            matrix.product(
                x[image * c * plane + j0..].as_ptr(),
                plane,
                cols,
                dst.at(image * out_c * plane + j0),
                plane,
                bias,
                act,
            )
        };
    });
    // SAFETY: the tasks wrote all n x out_c planes, every column of each.
    unsafe { out.set_len(n * out_c * plane) };
    out
}

/// Floats of im2col columns one band may hold (1 MiB: the band stays in a core's cache).
const BAND_FLOATS: usize = 256 * 1024;

thread_local! {
    /// A band's im2col columns, kept between bands (a fresh megabyte each time was page faults).
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// A full convolution of `n` images, each `c` x `h` x `w`, by `weight` (`out_c` rows of
/// c * kh * kw), with its bias and activation: im2col then a matrix product, a band of output
/// rows at a time. Each band's columns stay in cache, and the bands of all images run in
/// parallel, each product on one thread (a whole-image im2col buffer ran to 254 MB for one
/// layer of the text detector and cost more than the product). Returns `out_c` planes of
/// ho x wo per image.
#[allow(clippy::too_many_arguments)]
pub fn convolve(
    x: &[f32],
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    g: &Window,
    weight: &WeightMatrix,
    bias: Option<&[f32]>,
    act: Act,
) -> Vec<f32> {
    let (kh, kw) = (g.kh, g.kw);
    let (ho, wo) = g.output(h, w);
    let k = c * kh * kw;
    let out_c = weight.rows();
    debug_assert_eq!(weight.depth(), k);
    let phases: Vec<Phases> =
        (0..n * c).into_par_iter().map(|p| Phases::new(&x[p * h * w..(p + 1) * h * w], h, w, g, ho)).collect();
    // Bands small enough for the cache, and enough of them for every thread to have several
    // (a text line's few images, split in two bands each, left a core idle a third of the time).
    let fit = (BAND_FLOATS / (k * wo).max(1)).clamp(1, ho.max(1));
    let bands_per_image = ho.div_ceil(fit).max((4 * rayon::current_num_threads()).div_ceil(n.max(1))).min(ho.max(1));
    let rows = ho.div_ceil(bands_per_image).max(1);
    let bands = ho.div_ceil(rows);
    let mut out: Vec<f32> = Vec::with_capacity(n * out_c * ho * wo);
    let dst = SharedOut(out.as_mut_ptr());
    (0..n * bands).into_par_iter().for_each(|task| {
        let (image, band) = (task / bands, task % bands);
        let (oy0, oy1) = (band * rows, ((band + 1) * rows).min(ho));
        let m = (oy1 - oy0) * wo;
        COLUMNS.with_borrow_mut(|cols| {
            cols.resize(k * m, 0.0);
            for (ch, ph) in phases[image * c..(image + 1) * c].iter().enumerate() {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let (plane, offset) = ph.tap(ky, kx);
                        let row = &mut cols[((ch * kh + ky) * kw + kx) * m..][..m];
                        for (oy, r) in (oy0..oy1).zip(row.chunks_exact_mut(wo)) {
                            let start = offset + oy * ph.pitch();
                            r.copy_from_slice(&plane[start..start + wo]);
                        }
                    }
                }
            }
            // SAFETY: the band writes output rows oy0..oy1 of every channel of its image (row
            // stride ho * wo), which no other band touches; cols is k x m, row-major.
            unsafe { weight.product(cols.as_ptr(), m, m, dst.at((image * out_c * ho + oy0) * wo), ho * wo, bias, act) };
        });
    });
    // SAFETY: the bands wrote every row of every output plane.
    unsafe { out.set_len(n * out_c * ho * wo) };
    out
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
        let (sy, sx, py, px) = (g.sy, g.sx, g.top, g.left);
        let rows = out_rows + g.kh / sy + 1;
        let pitch = (w + g.left + g.right).div_ceil(sx) + 1;
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

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w) = (contiguous(xs, xl)?, contiguous(ws, wl)?);
        let (n, c, h, wd) = xl.shape().dims4()?;
        let g = &self.window;
        let taps = g.kh * g.kw;
        let (ho, wo) = g.output(h, wd);
        let mut out: Vec<f32> = Vec::with_capacity(n * c * ho * wo);
        // Planes in parallel, each written whole (so not zeroed first).
        out.spare_capacity_mut()[..n * c * ho * wo].par_chunks_mut(ho * wo).enumerate().for_each(|(nc, o)| {
            let ch = nc % c;
            let bias = self.bias.as_ref().map_or(0.0, |b| b[ch]);
            // SAFETY: f32 and MaybeUninit<f32> share a layout, and depthwise_plane writes every
            // element before reading it.
            let o = unsafe { &mut *(o as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
            depthwise_plane(
                &x[nc * h * wd..(nc + 1) * h * wd],
                (h, wd),
                &w[ch * taps..(ch + 1) * taps],
                g,
                o,
                bias,
                self.act,
            );
        });
        // SAFETY: every plane was written above.
        unsafe { out.set_len(n * c * ho * wo) };
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// One plane of a depthwise convolution. At stride 1 on CPUs with AVX2 and FMA, the framed
/// kernel; otherwise row by row, compiled for AVX2 and FMA where the CPU has them (once per
/// plane: per tap, the dispatch cost more than the arithmetic on small planes).
fn depthwise_plane(x: &[f32], size: (usize, usize), filter: &[f32], g: &Window, out: &mut [f32], bias: f32, act: Act) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide(
            x: &[f32],
            size: (usize, usize),
            filter: &[f32],
            g: &Window,
            out: &mut [f32],
            bias: f32,
            act: Act,
        ) {
            depthwise_rows(x, size, filter, g, out, bias, act)
        }
        if super::cpu::has_avx2_fma() {
            // SAFETY: the features were just detected on this CPU.
            unsafe {
                if g.sy == 1 && g.sx == 1 && size.1 > 0 {
                    let mut frame = FRAME.take();
                    framed::depthwise(x, size, filter, g, out, bias, &mut frame);
                    FRAME.set(frame);
                    out.chunks_exact_mut(g.output(size.0, size.1).1.max(1)).for_each(|row| finish_row(row, 0.0, act));
                    return;
                }
                return wide(x, size, filter, g, out, bias, act);
            }
        }
    }
    depthwise_rows(x, size, filter, g, out, bias, act)
}

thread_local! {
    /// The zero-padded copy of the plane the framed kernel reads, kept between planes.
    static FRAME: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

#[cfg(target_arch = "x86_64")]
mod framed {
    use std::arch::x86_64::*;

    use super::Window;

    /// Output columns kept in registers while every tap is summed: four vectors of eight.
    const RUN: usize = 32;

    /// Stride 1: the plane is copied once into a zero frame (left + w + right wide), then each
    /// run of 32 output columns starts at the bias and sums every tap in four registers
    /// before it is stored (per tap, a pass over the row in memory was bound by its loads and
    /// stores). Written with intrinsics: as a loop over an array, the compiler unrolled it
    /// into scalars.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn depthwise(
        x: &[f32],
        (h, w): (usize, usize),
        filter: &[f32],
        g: &Window,
        out: &mut [f32],
        bias: f32,
        frame: &mut Vec<f32>,
    ) {
        let (ho, wo) = g.output(h, w);
        let pitch = w + g.left + g.right;
        let rows = h + g.top + g.bottom;
        debug_assert_eq!(out.len(), ho * wo);
        debug_assert_eq!(pitch, wo + g.kw - 1);
        // The slack after the last row lets every run load whole vectors.
        frame.clear();
        frame.resize(rows * pitch + RUN, 0.0);
        for (y, src) in x.chunks_exact(w).enumerate() {
            frame[(y + g.top) * pitch + g.left..][..w].copy_from_slice(src);
        }
        let f = frame.as_ptr();
        for (oy, row) in out.chunks_exact_mut(wo).enumerate() {
            for x0 in (0..wo).step_by(RUN) {
                let mut acc = [_mm256_set1_ps(bias); RUN / 8];
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let k = _mm256_set1_ps(filter[ky * g.kw + kx]);
                        // In bounds: the run starts inside row oy + ky and reads at most RUN past it.
                        let p = f.add((oy + ky) * pitch + x0 + kx);
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = _mm256_fmadd_ps(_mm256_loadu_ps(p.add(8 * v)), k, *a);
                        }
                    }
                }
                let mut stored = [0f32; RUN];
                for (v, a) in acc.iter().enumerate() {
                    _mm256_storeu_ps(stored.as_mut_ptr().add(8 * v), *a);
                }
                let n = RUN.min(wo - x0);
                row[x0..x0 + n].copy_from_slice(&stored[..n]);
            }
        }
    }
}

/// Row by row: each output row starts at the bias, takes one multiply-add pass per tap over
/// the output columns whose input lies inside the plane, and is finished while in cache.
#[inline(always)]
fn depthwise_rows(x: &[f32], (h, w): (usize, usize), filter: &[f32], g: &Window, out: &mut [f32], bias: f32, act: Act) {
    let wo = g.output(h, w).1;
    for (oy, row) in out.chunks_exact_mut(wo).enumerate() {
        row.fill(bias);
        for ky in 0..g.kh {
            let Some(iy) = (oy * g.sy + ky).checked_sub(g.top).filter(|&iy| iy < h) else { continue };
            let src = &x[iy * w..(iy + 1) * w];
            for kx in 0..g.kw {
                // Output columns ox whose input column ox * sx + kx - left lies in 0..w.
                let lo = g.left.saturating_sub(kx).div_ceil(g.sx);
                let hi = if w + g.left > kx { ((w + g.left - kx - 1) / g.sx + 1).min(wo) } else { 0 };
                if lo >= hi {
                    continue;
                }
                let k = filter[ky * g.kw + kx];
                let first = lo * g.sx + kx - g.left;
                if g.sx == 1 {
                    for (v, &p) in row[lo..hi].iter_mut().zip(&src[first..]) {
                        *v = p.mul_add(k, *v);
                    }
                } else {
                    for (v, &p) in row[lo..hi].iter_mut().zip(src[first..].iter().step_by(g.sx)) {
                        *v = p.mul_add(k, *v);
                    }
                }
            }
        }
        finish_row(row, 0.0, act);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ramp;
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn depthwise_matches_candle_grouped_conv() {
        for (stride, pad, k) in [(1, 2, 5), (2, 2, 5), (1, 1, 3), (2, 1, 3)] {
            let (c, h, w) = (3, 9, 7);
            let x = ramp((1, c, h, w), 0.01, -0.3);
            let wt = ramp((c, 1, k, k), 0.05, -0.5);
            let ours = x
                .apply_op2_no_bwd(
                    &wt,
                    &Depthwise { window: Window::square(k, stride, pad), bias: None, act: Act::Identity },
                )
                .unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, c).unwrap();
            assert_eq!(ours.dims(), reference.dims());
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "stride {stride} pad {pad} k {k}: diff {diff}");
        }
    }

    #[test]
    fn convolution_matches_candle_conv() {
        // The last case is large enough for several bands of output rows (K = 144, 50 wide).
        for (stride, pad, (c, h, w, k, o)) in
            [(1, 1, (2, 7, 6, 3, 4)), (2, 1, (2, 7, 6, 3, 4)), (2, 0, (2, 7, 6, 3, 4)), (1, 1, (16, 300, 50, 3, 5))]
        {
            let x = ramp((1, c, h, w), 0.02, -0.3);
            let wt = ramp((o, c, k, k), 0.03, -0.4);
            let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let weight = wt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let g = Window::square(k, stride, pad);
            let (ho, wo) = g.output(h, w);
            let out = convolve(&data, 1, c, h, w, &g, &WeightMatrix::new(weight, o, c * k * k), None, Act::Identity);
            let ours = Tensor::from_vec(out, (1, o, ho, wo), &Device::Cpu).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, 1).unwrap();
            // Relative to the largest output (the large case sums big values).
            let scale = reference.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap().max(1.0);
            let diff =
                (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap() / scale;
            assert!(diff < 1e-5, "stride {stride} pad {pad} {c}x{h}x{w}: relative diff {diff}");
        }
    }

    #[test]
    fn uneven_windows_match_candle_on_the_equivalent_padded_input() {
        // Stride (2, 1), kernel 1 x 3, padding (0, 1): compare with candle on a zero-padded
        // input (no padding) and subsampled rows.
        let (c, h, w, o) = (2, 6, 5, 3);
        let x = ramp((1, c, h, w), 0.05, -0.7);
        let wt = ramp((o, c, 1, 3), 0.1, -0.9);
        let g = Window { kh: 1, kw: 3, sy: 2, sx: 1, top: 0, left: 1, bottom: 0, right: 1 };
        let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let weight = wt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (ho, wo) = g.output(h, w);
        let out = convolve(&data, 1, c, h, w, &g, &WeightMatrix::new(weight, o, c * 3), None, Act::Identity);
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
    fn padding_only_after_matches_candle_on_the_padded_input() {
        // SAME_UPPER at stride 1 with an even kernel: one row and column of zeros after, none
        // before; three images, for both the full and the depthwise kernel.
        let (n, c, h, w, o, k) = (3, 4, 5, 9, 6, 2);
        let g = Window { kh: k, kw: k, sy: 1, sx: 1, top: 0, left: 0, bottom: 1, right: 1 };
        let x = ramp((n, c, h, w), 0.01, -0.8).sin().unwrap();
        let padded = x.pad_with_zeros(2, 0, 1).unwrap().pad_with_zeros(3, 0, 1).unwrap();
        let wt = ramp((o, c, k, k), 0.07, -1.1).cos().unwrap();
        let data = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let weight = wt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let bias: Vec<f32> = (0..o).map(|i| i as f32 * 0.1).collect();
        let out = convolve(&data, n, c, h, w, &g, &WeightMatrix::new(weight, o, c * k * k), Some(&bias), Act::Relu);
        let b = Tensor::new(bias.as_slice(), &Device::Cpu).unwrap().reshape((1, o, 1, 1)).unwrap();
        let reference = padded.conv2d(&wt, 0, 1, 1, 1).unwrap().broadcast_add(&b).unwrap().relu().unwrap();
        let ours = Tensor::from_vec(out, reference.dims(), &Device::Cpu).unwrap();
        let diff = (ours - &reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "full: {diff}");

        let wd = wt.narrow(0, 0, c).unwrap().narrow(1, 0, 1).unwrap().contiguous().unwrap();
        let ours = x.apply_op2_no_bwd(&wd, &Depthwise { window: g, bias: None, act: Act::Identity }).unwrap();
        let reference = padded.conv2d(&wd, 0, 1, 1, c).unwrap();
        assert_eq!(ours.dims(), reference.dims());
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "depthwise: {diff}");
    }
}
