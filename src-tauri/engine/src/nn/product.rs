//! The matrix product behind the graph runner's convolutions: a layer's weights (`rows` output
//! channels by `depth` inputs) times a block of input columns, with the bias and activation
//! applied as the result is stored.
//!
//! On CPUs with AVX-512 the weights are packed once into panels of [`MR`] rows and a
//! register-blocked kernel computes [`MR`] x [`NR`] outputs at a time from a block of [`NR`]
//! input columns copied side by side: PP-OCR's 1x1 convolutions ran at 110-160 GFLOP/s through
//! the general `gemm` crate and run at 170-195 here (the kernel alone: 270-325 on two cores).
//! Elsewhere the `gemm` crate computes the product and a second pass finishes it.

use super::kernels::{finish_block, Act};

/// Output rows (channels) per kernel call: 12 rows x 2 vectors = 24 accumulators of the 32
/// AVX-512 registers, leaving room for the two input vectors and a broadcast weight.
pub const MR: usize = 12;
/// Output columns per kernel call: two 16-float vectors.
pub const NR: usize = 32;

/// A layer's weights, row-major (`rows` x `depth`), and their packed panels where the CPU has
/// the kernel for them.
#[derive(Debug)]
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
    pub unsafe fn product(&self, b: *const f32, ldb: usize, n: usize, c: *mut f32, ldc: usize, bias: Option<&[f32]>, act: Act) {
        if n == 0 || self.rows == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(panels) = &self.panels {
            return avx512::product(panels, self.rows, self.depth, b, ldb, n, c, ldc, bias, act);
        }
        gemm_on_this_thread(self.rows, n, self.depth, (c, ldc as isize), (self.data.as_ptr(), self.depth as isize, 1), (b, ldb as isize, 1), 1.0);
        finish_block(c, ldc, self.rows, n, bias, act);
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
    gemm::gemm(m, n, k, c.0, 1, c.1, false, a.0, a.2, a.1, b.0, b.2, b.1, 0.0, alpha, false, false, false, gemm::Parallelism::None)
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

    use super::{Act, MR, NR};

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
            for (k, dst) in block.chunks_exact_mut(NR).enumerate() {
                std::ptr::copy_nonoverlapping(b.add(k * ldb + n0), dst.as_mut_ptr(), cols);
            }
            // Lanes to store of the two vectors.
            let lanes = if cols == NR { u32::MAX } else { (1u32 << cols) - 1 };
            let masks = [lanes as __mmask16, (lanes >> 16) as __mmask16];
            for (p, panel) in panels.chunks_exact(depth * MR).enumerate() {
                let r0 = p * MR;
                let tile_bias = bias.map(|bv| &bv[r0..(r0 + MR).min(rows)]);
                tile(panel, &block, masks, c.add(r0 * ldc + n0), ldc, (rows - r0).min(MR), cols, tile_bias, act);
            }
            n0 += NR;
        }
    }

    /// MR x NR outputs: 24 accumulators over the whole depth, then bias, activation, store.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(panel: &[f32], block: &[f32], masks: [__mmask16; 2], c: *mut f32, ldc: usize, rows: usize, cols: usize, bias: Option<&[f32]>, act: Act) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        if let Some(bias) = bias {
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
                    Act::Identity | Act::Gelu => v,
                    Act::Relu => _mm512_max_ps(v, _mm512_setzero_ps()),
                    Act::HardSwish => {
                        let gate = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, _mm512_set1_ps(3.0)), _mm512_setzero_ps()), _mm512_set1_ps(6.0));
                        _mm512_mul_ps(v, _mm512_mul_ps(gate, _mm512_set1_ps(1.0 / 6.0)))
                    }
                };
                _mm512_mask_storeu_ps(out.add(16 * h), masks[h], v);
            }
        }
        if act == Act::Gelu {
            // erf has no vector form here: finish the stored tile while it is in cache.
            super::super::kernels::finish_block(c, ldc, rows, cols, None, act);
        }
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
        for (rows, depth, n) in [(1, 1, 1), (12, 8, 32), (13, 7, 33), (25, 40, 95), (48, 3, 16), (5, 130, 70)] {
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
                                assert!((got - want).abs() < 1e-4, "{rows}x{depth}x{n} {act:?} at ({r}, {j}): {got} vs {want}");
                            }
                        }
                    }
                }
            }
        }
    }
}
