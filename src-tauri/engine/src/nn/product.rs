//! The matrix product behind the graph runner's convolutions and products by weights: a
//! layer's weights (`rows` output channels by `depth` inputs) times a block of input columns,
//! with the bias and activation applied as the result is stored; and [`Linear`], x · W for
//! constant weights W.
//!
//! On CPUs with AVX-512 the weights are packed once into panels of [`MR`] rows and a
//! register-blocked kernel computes [`MR`] x [`NR`] outputs at a time from a block of [`NR`]
//! input columns copied side by side, [`KC`] inputs at a time: PP-OCR's 1x1 convolutions ran at
//! 110-160 GFLOP/s through the general `gemm` crate and run at 235-260 here inside the network
//! (the kernel alone: 165-177 on one core). Elsewhere the `gemm` crate computes the product and
//! a second pass finishes it.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};
use rayon::prelude::*;

use super::cpu::{contiguous, SharedOut};
use super::epilogue::{finish_block, Act};

/// Output rows (channels) per kernel call: 12 rows x 2 vectors = 24 accumulators of the 32
/// AVX-512 registers, leaving room for the two input vectors and a broadcast weight.
pub const MR: usize = 12;
/// Output columns per kernel call: two 16-float vectors.
pub const NR: usize = 32;
/// Inputs (the depth) the kernel sums before it goes on to the next panel: a slice of a
/// block, KC x NR floats (24 KiB), stays in the first-level cache.
const KC: usize = 192;

/// A layer's weights, row-major (`rows` x `depth`), and their packed panels where the CPU has
/// the kernel for them.
pub struct WeightMatrix {
    rows: usize,
    depth: usize,
    data: Vec<f32>,
    /// Panel p holds rows p*MR .. p*MR+MR (zeros past the last row), depth-major: for each
    /// input channel, its MR weights side by side.
    panels: Option<Vec<f32>>,
}

impl WeightMatrix {
    pub fn new(data: Vec<f32>, rows: usize, depth: usize) -> Self {
        assert_eq!(data.len(), rows * depth, "weights of {rows} x {depth}");
        let panels = has_kernel().then(|| pack(&data, rows, depth));
        WeightMatrix { rows, depth, data, panels }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `c` = act(self · b + bias) on one thread, where `b` is `depth` rows of `n` columns
    /// (row stride `ldb`) and `c` receives `rows` rows of `n` (row stride `ldc`).
    ///
    /// # Safety
    /// `b` must be readable for `depth` rows of `n` floats at stride `ldb`, and `c` writable for
    /// `rows` rows of `n` floats at stride `ldc`, not overlapping `b` nor written concurrently.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn product(
        &self,
        b: *const f32,
        ldb: usize,
        n: usize,
        c: *mut f32,
        ldc: usize,
        bias: Option<&[f32]>,
        act: Act,
    ) {
        if n == 0 || self.rows == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(panels) = &self.panels {
            return avx512::product(panels, self.rows, self.depth, b, ldb, n, c, ldc, bias, act);
        }
        gemm_on_this_thread(
            self.rows,
            n,
            self.depth,
            (c, ldc as isize),
            (self.data.as_ptr(), self.depth as isize, 1),
            (b, ldb as isize, 1),
            1.0,
        );
        finish_block(c, ldc, self.rows, n, bias, act);
    }

    /// `c` = self · b where b is already laid out as the kernel reads it: blocks of `depth` rows
    /// of NR columns side by side, for `n` columns in all.
    ///
    /// # Safety
    /// The matrix must have packed panels (it does where the CPU has the kernel), `blocks` must
    /// hold the n.div_ceil(NR) blocks, and `c` be writable as in [`WeightMatrix::product`].
    pub unsafe fn product_by_blocks(&self, blocks: &[f32], n: usize, c: *mut f32, ldc: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(panels) = &self.panels {
            for (j, block) in blocks.chunks_exact(self.depth * NR).take(n.div_ceil(NR)).enumerate() {
                avx512::panels_times_block(
                    panels,
                    self.rows,
                    self.depth,
                    block,
                    NR.min(n - j * NR),
                    c.add(j * NR),
                    ldc,
                    None,
                    Act::Identity,
                );
            }
            return;
        }
        unreachable!("blocks are laid out only where the kernel runs");
    }
}

/// y = x · W + b for a constant W (`depth` x `width`) over the last axis of x: an ONNX MatMul
/// by weights, with the bias Add after it folded in. (PP-OCR's classifier, 120 features to
/// 18,710 classes, through candle's matmul and broadcast add took a sixth of the recogniser.)
pub struct Linear {
    depth: usize,
    width: usize,
    /// W and the bias as one more row, (depth + 1) x width: the kernel adds its bias per output
    /// row, and here it is per column, so each row of x is given a trailing 1 instead. Where
    /// the CPU has the kernel, laid out as it reads them, once: column blocks of NR, each
    /// depth + 1 rows of NR side by side (zeros past the last column); row-major elsewhere.
    weights: Vec<f32>,
    packed: bool,
}

/// Rows of x, and columns of W, that one task computes.
const LINEAR_ROWS: usize = 32 * MR;
const LINEAR_COLUMNS: usize = 8 * NR;

impl Linear {
    pub fn new(weights: Vec<f32>, depth: usize, width: usize) -> Self {
        assert_eq!(weights.len(), depth * width, "weights of {depth} x {width}");
        let packed = has_kernel();
        let mut linear = Linear {
            depth,
            width,
            weights: vec![0.0; if packed { width.div_ceil(NR) * NR } else { width } * (depth + 1)],
            packed,
        };
        for (k, row) in weights.chunks_exact(width.max(1)).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let at = linear.at(k, j);
                linear.weights[at] = v;
            }
        }
        linear
    }

    /// Where W's row k, column j lies in `weights`.
    fn at(&self, k: usize, j: usize) -> usize {
        if self.packed {
            (j / NR * (self.depth + 1) + k) * NR + j % NR
        } else {
            k * self.width + j
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Add `bias` (one value per output column) to the output.
    pub fn add_bias(&mut self, bias: &[f32]) {
        assert_eq!(bias.len(), self.width, "a bias of {} columns", self.width);
        for (j, b) in bias.iter().enumerate() {
            let at = self.at(self.depth, j);
            self.weights[at] += b;
        }
    }

    /// The product for `rows` rows of x (each `depth` long); tasks of up to LINEAR_ROWS rows by
    /// LINEAR_COLUMNS columns in parallel, x's rows being the packed side.
    pub fn apply(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let (depth, width) = (self.depth + 1, self.width);
        let groups: Vec<WeightMatrix> = (0..rows.div_ceil(LINEAR_ROWS))
            .into_par_iter()
            .map(|g| {
                let r = g * LINEAR_ROWS..((g + 1) * LINEAR_ROWS).min(rows);
                let rows_of_x = x[r.start * self.depth..r.end * self.depth].chunks_exact(self.depth.max(1));
                WeightMatrix::new(rows_of_x.flat_map(|row| row.iter().copied().chain([1.0])).collect(), r.len(), depth)
            })
            .collect();
        let mut out: Vec<f32> = Vec::with_capacity(rows * width);
        let dst = SharedOut(out.as_mut_ptr());
        let chunks = width.div_ceil(LINEAR_COLUMNS);
        (0..groups.len() * chunks).into_par_iter().for_each(|task| {
            let (g, j0) = (task / chunks, task % chunks * LINEAR_COLUMNS);
            let (cols, c) = (LINEAR_COLUMNS.min(width - j0), dst.at(g * LINEAR_ROWS * width + j0));
            // SAFETY: the task reads columns j0.. of W and writes its group's rows at those
            // columns, which no other task writes; packed blocks hold depth rows of NR each.
            unsafe {
                if self.packed {
                    groups[g].product_by_blocks(&self.weights[self.at(0, j0)..], cols, c, width);
                } else {
                    groups[g].product(self.weights[j0..].as_ptr(), width, cols, c, width, None, Act::Identity);
                }
            }
        });
        // SAFETY: the tasks wrote every column of every row.
        unsafe { out.set_len(rows * width) };
        out
    }
}

impl CustomOp1 for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(xs, xl)?;
        let mut dims = xl.shape().dims().to_vec();
        if dims.last() != Some(&self.depth) {
            candle_core::bail!("a product by {} x {} weights got an input of shape {dims:?}", self.depth, self.width);
        }
        let rows = x.len() / self.depth.max(1);
        *dims.last_mut().expect("checked above") = self.width;
        Ok((CpuStorage::F32(self.apply(x, rows)), Shape::from(dims)))
    }
}

// Shapes only: the graph profile names steps by their Debug form, and millions of weights
// printed there took longer than the network.
impl std::fmt::Debug for WeightMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeightMatrix({} x {})", self.rows, self.depth)
    }
}

impl std::fmt::Debug for Linear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Linear({} x {}{})", self.depth, self.width, if self.packed { ", packed" } else { "" })
    }
}

/// c = alpha · a · b through the `gemm` crate on this thread: c is m x n, a m x k, b k x n, each
/// given by its pointer and row stride (and column stride for a and b, so either may be read
/// transposed).
///
/// # Safety
/// Each pointer must be valid for its matrix at its strides, and c not overlap a or b.
pub(crate) unsafe fn gemm_on_this_thread(
    m: usize,
    n: usize,
    k: usize,
    c: (*mut f32, isize),
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
    alpha: f32,
) {
    gemm::gemm(
        m,
        n,
        k,
        c.0,
        1,
        c.1,
        false,
        a.0,
        a.2,
        a.1,
        b.0,
        b.2,
        b.1,
        0.0,
        alpha,
        false,
        false,
        false,
        gemm::Parallelism::None,
    )
}

fn has_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn pack(data: &[f32], rows: usize, depth: usize) -> Vec<f32> {
    let panels = rows.div_ceil(MR);
    let mut out = vec![0f32; panels * depth * MR];
    for (p, panel) in out.chunks_exact_mut(depth * MR).enumerate() {
        for r in 0..MR.min(rows - p * MR) {
            let row = &data[(p * MR + r) * depth..][..depth];
            for (k, &v) in row.iter().enumerate() {
                panel[k * MR + r] = v;
            }
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Act, KC, MR, NR};

    /// Every column block of NR, every panel of MR rows within it. The block's input columns
    /// are first copied side by side (depth x NR; lanes past the right edge are never stored):
    /// read in place, at
    /// the input's row stride, they fell out of the first-level cache between panels.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn product(
        panels: &[f32],
        rows: usize,
        depth: usize,
        b: *const f32,
        ldb: usize,
        n: usize,
        c: *mut f32,
        ldc: usize,
        bias: Option<&[f32]>,
        act: Act,
    ) {
        let mut block = vec![0f32; depth * NR];
        let mut n0 = 0;
        while n0 < n {
            let cols = NR.min(n - n0);
            let masks = lane_masks(cols);
            // Two masked vector moves a row (a call to memcpy a row cost a tenth of the product).
            for (k, dst) in block.chunks_exact_mut(NR).enumerate() {
                let src = b.add(k * ldb + n0);
                _mm512_storeu_ps(dst.as_mut_ptr(), _mm512_maskz_loadu_ps(masks[0], src));
                _mm512_storeu_ps(dst.as_mut_ptr().add(16), _mm512_maskz_loadu_ps(masks[1], src.add(16)));
            }
            panels_times_block(panels, rows, depth, &block, cols, c.add(n0), ldc, bias, act);
            n0 += NR;
        }
    }

    /// Lanes to read and store of the two vectors, for `cols` columns.
    fn lane_masks(cols: usize) -> [__mmask16; 2] {
        let lanes = if cols >= NR { u32::MAX } else { (1u32 << cols) - 1 };
        [lanes as __mmask16, (lanes >> 16) as __mmask16]
    }

    /// Every panel times one block of `cols` (at most NR) columns, depth x NR side by side.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn panels_times_block(
        panels: &[f32],
        rows: usize,
        depth: usize,
        block: &[f32],
        cols: usize,
        c: *mut f32,
        ldc: usize,
        bias: Option<&[f32]>,
        act: Act,
    ) {
        let masks = lane_masks(cols);
        // A slice of the depth at a time, so that its part of the block stays in the first-level
        // cache while every panel passes (a whole block of 384 inputs filled the cache alone).
        let slices = depth.div_ceil(KC).max(1);
        for s in 0..slices {
            let (k0, k1) = (s * KC, ((s + 1) * KC).min(depth));
            let (first, last) = (s == 0, s + 1 == slices);
            for (p, panel) in panels.chunks_exact(depth * MR).enumerate() {
                let r0 = p * MR;
                let tile_bias = bias.filter(|_| first).map(|bv| &bv[r0..(r0 + MR).min(rows)]);
                let tile_act = if last { act } else { Act::Identity };
                tile(
                    &panel[k0 * MR..k1 * MR],
                    &block[k0 * NR..k1 * NR],
                    masks,
                    c.add(r0 * ldc),
                    ldc,
                    (rows - r0).min(MR),
                    tile_bias,
                    tile_act,
                    !first,
                );
            }
        }
    }

    /// MR x NR outputs: 24 accumulators, starting from the bias (or, to go on with a later
    /// slice of the depth, from what `c` holds), over the slice the panel and block hold; then
    /// the activation, and the store.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        panel: &[f32],
        block: &[f32],
        masks: [__mmask16; 2],
        c: *mut f32,
        ldc: usize,
        rows: usize,
        bias: Option<&[f32]>,
        act: Act,
        accumulate: bool,
    ) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        if accumulate {
            for (r, acc) in acc.iter_mut().enumerate().take(rows) {
                for (h, v) in acc.iter_mut().enumerate() {
                    *v = _mm512_maskz_loadu_ps(masks[h], c.add(r * ldc + 16 * h));
                }
            }
        } else if let Some(bias) = bias {
            for (r, &v) in bias.iter().enumerate() {
                acc[r] = [_mm512_set1_ps(v); 2];
            }
        }
        let (a, b) = (panel.as_ptr(), block.as_ptr());
        for k in 0..block.len() / NR {
            let b0 = _mm512_loadu_ps(b.add(k * NR));
            let b1 = _mm512_loadu_ps(b.add(k * NR + 16));
            let ak = a.add(k * MR);
            for (r, acc) in acc.iter_mut().enumerate() {
                let w = _mm512_set1_ps(*ak.add(r));
                acc[0] = _mm512_fmadd_ps(w, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(w, b1, acc[1]);
            }
        }
        for (r, acc) in acc.iter().enumerate().take(rows) {
            let out = c.add(r * ldc);
            for (h, &v) in acc.iter().enumerate() {
                let v = match act {
                    Act::Identity => v,
                    Act::Gelu => gelu(v),
                    Act::Relu => _mm512_max_ps(v, _mm512_setzero_ps()),
                    Act::HardSwish => {
                        let gate = _mm512_min_ps(
                            _mm512_max_ps(_mm512_add_ps(v, _mm512_set1_ps(3.0)), _mm512_setzero_ps()),
                            _mm512_set1_ps(6.0),
                        );
                        _mm512_mul_ps(v, _mm512_mul_ps(gate, _mm512_set1_ps(1.0 / 6.0)))
                    }
                };
                _mm512_mask_storeu_ps(out.add(16 * h), masks[h], v);
            }
        }
    }

    /// GELU of 16 lanes, as `elementwise::gelu` computes it: x (1 + erf(x / sqrt 2)) / 2 with
    /// erf by Abramowitz and Stegun 7.1.26. (Through the scalar function, called per stored
    /// tile, GELU cost as much as the product it followed.)
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn gelu(x: __m512) -> __m512 {
        let a = _mm512_abs_ps(_mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::FRAC_1_SQRT_2)));
        let t =
            _mm512_div_ps(_mm512_set1_ps(1.0), _mm512_fmadd_ps(_mm512_set1_ps(0.327_591_1), a, _mm512_set1_ps(1.0)));
        let mut poly = _mm512_set1_ps(1.061_405_4);
        for c in [-1.453_152_1, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
            poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(c));
        }
        // q = 1 - erf(|x| / sqrt 2); 1 + erf(x / sqrt 2) is 2 - q for x >= 0 and q below.
        let q = _mm512_mul_ps(_mm512_mul_ps(poly, t), exp(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a)));
        let positive = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
        let one_plus_erf = _mm512_mask_sub_ps(q, positive, _mm512_set1_ps(2.0), q);
        _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5)), one_plus_erf)
    }

    /// e^x of 16 lanes, as `elementwise::exp` computes it (2^n times a Taylor polynomial).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn exp(x: __m512) -> __m512 {
        let x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0)), _mm512_set1_ps(88.0));
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm512_mul_ps(
            x,
            _mm512_set1_ps(std::f32::consts::LOG2_E),
        ));
        let r =
            _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428_606_8e-6), _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_145_75), x));
        let mut p = _mm512_set1_ps(1.0 / 5040.0);
        for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        }
        _mm512_scalef_ps(p, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product computed the plain way, with bias and activation.
    fn reference(w: &[f32], rows: usize, depth: usize, b: &[f32], n: usize, bias: &[f32], act: Act) -> Vec<f32> {
        let mut out = vec![0f32; rows * n];
        for r in 0..rows {
            for j in 0..n {
                let s: f64 = (0..depth).map(|k| w[r * depth + k] as f64 * b[k * n + j] as f64).sum();
                let v = s as f32 + bias[r];
                out[r * n + j] = match act {
                    Act::Identity => v,
                    Act::Relu => v.max(0.0),
                    Act::HardSwish => v * (v + 3.0).clamp(0.0, 6.0) / 6.0,
                    Act::Gelu => super::super::elementwise::gelu(v),
                };
            }
        }
        out
    }

    #[test]
    fn product_matches_the_plain_sum_at_ragged_sizes() {
        if !has_kernel() {
            eprintln!("SKIP (in part): this CPU has no AVX-512; both matrices take the gemm crate's path");
        }
        // Rows and columns that fill no panel or block exactly, and exact ones.
        // Depths past KC take several slices, each going on from what the last stored.
        for (rows, depth, n) in
            [(1, 1, 1), (12, 8, 32), (13, 7, 33), (25, 40, 95), (48, 3, 16), (5, 130, 70), (25, 2 * KC + 7, 40)]
        {
            for act in [Act::Identity, Act::Relu, Act::HardSwish, Act::Gelu] {
                let w: Vec<f32> = (0..rows * depth).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.05).collect();
                let b: Vec<f32> = (0..depth * n).map(|i| ((i * 17 % 29) as f32 - 14.0) * 0.04).collect();
                let bias: Vec<f32> = (0..rows).map(|i| i as f32 * 0.1 - 0.5).collect();
                let expected = reference(&w, rows, depth, &b, n, &bias, act);
                // A wider output (stride n + 3) whose extra columns must stay untouched.
                let ldc = n + 3;
                let packed = WeightMatrix::new(w.clone(), rows, depth);
                // The gemm crate's path, as on CPUs without the kernel.
                let plain = WeightMatrix { rows, depth, data: w.clone(), panels: None };
                for m in [packed, plain] {
                    let mut c = vec![7f32; rows * ldc];
                    unsafe { m.product(b.as_ptr(), n, n, c.as_mut_ptr(), ldc, Some(&bias), act) };
                    for r in 0..rows {
                        for j in 0..ldc {
                            let got = c[r * ldc + j];
                            if j >= n {
                                assert_eq!(got, 7.0, "column {j} past the end was written");
                            } else {
                                let want = expected[r * n + j];
                                assert!(
                                    (got - want).abs() < 1e-4,
                                    "{rows}x{depth}x{n} {act:?} at ({r}, {j}): {got} vs {want}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn linear_matches_the_plain_sum_over_several_tasks() {
        // More rows and columns than one task takes, neither a multiple of the task's size.
        let (rows, depth, width) = (LINEAR_ROWS + 13, 21, LINEAR_COLUMNS * 2 + 7);
        let w: Vec<f32> = (0..depth * width).map(|i| ((i * 31 % 19) as f32 - 9.0) * 0.03).collect();
        let x: Vec<f32> = (0..rows * depth).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
        let bias: Vec<f32> = (0..width).map(|j| j as f32 * 0.01 - 1.0).collect();
        // Both layouts of the weights: blocks for the kernel, and row-major for the gemm crate.
        let row_major = Linear {
            depth,
            width,
            weights: w.iter().copied().chain(std::iter::repeat_n(0.0, width)).collect(),
            packed: false,
        };
        for mut linear in [Linear::new(w.clone(), depth, width), row_major] {
            let plain = linear.apply(&x, rows);
            // The bias folded in twice adds twice (an ONNX graph may add two constants in a row).
            linear.add_bias(&bias);
            linear.add_bias(&bias);
            let biased = linear.apply(&x, rows);
            for r in 0..rows {
                for j in 0..width {
                    let s: f64 = (0..depth).map(|k| x[r * depth + k] as f64 * w[k * width + j] as f64).sum();
                    let (got, with_bias) = (plain[r * width + j], biased[r * width + j]);
                    assert!((got as f64 - s).abs() < 1e-4, "{linear:?} ({r}, {j}): {got} vs {s}");
                    assert!(
                        (with_bias as f64 - s - 2.0 * bias[j] as f64).abs() < 1e-4,
                        "{linear:?} ({r}, {j}) with bias: {with_bias}"
                    );
                }
            }
        }
    }
}
