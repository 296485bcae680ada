//! One token through a linear layer: a matrix–vector product that streams the weights once,
//! every core on its own rows, four rows at a time (four streams in flight per core read ~10 %
//! faster than one), compiled for AVX2/FMA when the CPU has them. Decoding is bound by how fast
//! the weights can be read; candle's general matrix product leaves much of that on the table for
//! a single row. [`Q8Matrix`] holds weights in 8 bits (a quarter of f32's bytes to read per
//! token), for the quantised decoding path.

use candle_core::{CpuStorage, DType, Module, Storage, Tensor};
use candle_nn::Linear;
use rayon::prelude::*;

/// Widens one weight to f32 (bf16 is the top half of an f32).
trait Weight: Copy + Sync {
    fn f32(self) -> f32;
}

impl Weight for f32 {
    #[inline(always)]
    fn f32(self) -> f32 {
        self
    }
}

impl Weight for half::bf16 {
    #[inline(always)]
    fn f32(self) -> f32 {
        f32::from_bits((self.to_bits() as u32) << 16)
    }
}

/// `R` rows against `x` at once: `R` weight streams in flight per core instead of one.
#[inline(always)]
fn dot_rows_lanes<T: Weight, const R: usize>(rows: [&[T]; R], x: &[f32]) -> [f32; R] {
    let mut acc = [[0f32; 8]; R];
    let chunks = x.len() / 8;
    for c in 0..chunks {
        let xs = &x[c * 8..c * 8 + 8];
        for (r, row) in rows.iter().enumerate() {
            let w = &row[c * 8..c * 8 + 8];
            for i in 0..8 {
                acc[r][i] += w[i].f32() * xs[i];
            }
        }
    }
    let mut out = [0f32; R];
    for r in 0..R {
        let tail: f32 = rows[r][chunks * 8..].iter().zip(&x[chunks * 8..]).map(|(w, v)| w.f32() * v).sum();
        out[r] = acc[r].iter().sum::<f32>() + tail;
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_rows_avx2<T: Weight, const R: usize>(rows: [&[T]; R], x: &[f32]) -> [f32; R] {
    dot_rows_lanes(rows, x)
}

fn dot_rows<T: Weight, const R: usize>(rows: [&[T]; R], x: &[f32]) -> [f32; R] {
    #[cfg(target_arch = "x86_64")]
    if crate::nn::has_avx2_fma() {
        // SAFETY: the features were just detected on this CPU.
        return unsafe { dot_rows_avx2(rows, x) };
    }
    dot_rows_lanes(rows, x)
}

/// Rows taken together by the kernel.
const ROWS: usize = 4;

/// `weight` (n, k) row-major times `x` (k).
fn matvec<T: Weight>(weight: &[T], k: usize, x: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; weight.len() / k];
    // Two long runs of rows per thread: long sequential reads suit the prefetcher, and few tasks
    // keep the threads from waiting on each other.
    let rows = out.len().div_ceil(2 * rayon::current_num_threads()).max(1);
    out.par_chunks_mut(rows).enumerate().for_each(|(task, out)| {
        let first = task * rows;
        let row = |i: usize| &weight[(first + i) * k..(first + i + 1) * k];
        let done = out.len() / ROWS * ROWS;
        let mut groups = out.chunks_exact_mut(ROWS);
        for (g, o) in (&mut groups).enumerate() {
            o.copy_from_slice(&dot_rows::<T, ROWS>(std::array::from_fn(|r| row(g * ROWS + r)), x));
        }
        for (i, o) in groups.into_remainder().iter_mut().enumerate() {
            *o = dot_rows::<T, 1>([row(done + i)], x)[0];
        }
    });
    out
}

/// Weights in 8 bits: each row in blocks of [`Q8_BLOCK`] values sharing one f32 scale, the
/// largest magnitude of the block mapping to ±127 (GGML's Q8_0 scheme, with an f32 scale).
/// Rows are padded with zeros to whole blocks and to whole groups of [`ROWS`], and a group's
/// rows are stored block by block side by side, so that the decoding kernel reads one stream
/// of memory (four rows read as four short streams left the prefetcher behind: 55 % of the
/// bandwidth ceiling against 95 % in f32).
pub struct Q8Matrix {
    rows: usize,
    cols: usize,
    /// Group g, block b, row i of the group: `Q8_BLOCK` values at ((g * blocks + b) * ROWS + i) * Q8_BLOCK.
    quants: Vec<i8>,
    /// The scale of the same block at (g * blocks + b) * ROWS + i.
    scales: Vec<f32>,
}

pub const Q8_BLOCK: usize = 32;

/// How far ahead of the decoding kernel's reads the next weights are asked for.
/// (512 to 4,096 bytes measured: 1,024 read fastest, 25 % faster than none.)
const PREFETCH: usize = 1024;

impl Q8Matrix {
    /// `weight` (rows, cols) row-major.
    pub fn quantize(weight: &[f32], rows: usize, cols: usize) -> Q8Matrix {
        assert_eq!(weight.len(), rows * cols, "weights of {rows} x {cols}");
        let blocks = cols.div_ceil(Q8_BLOCK);
        let groups = rows.div_ceil(ROWS);
        let mut quants = vec![0i8; groups * blocks * ROWS * Q8_BLOCK];
        let mut scales = vec![0f32; groups * blocks * ROWS];
        quants.par_chunks_mut(blocks * ROWS * Q8_BLOCK).zip(scales.par_chunks_mut(blocks * ROWS)).enumerate().for_each(
            |(g, (q, sc))| {
                for i in 0..ROWS.min(rows - g * ROWS) {
                    let row = &weight[(g * ROWS + i) * cols..(g * ROWS + i + 1) * cols];
                    for b in 0..blocks {
                        let block = &row[b * Q8_BLOCK..((b + 1) * Q8_BLOCK).min(cols)];
                        let at = b * ROWS + i;
                        sc[at] = quantize_block(block, &mut q[at * Q8_BLOCK..(at + 1) * Q8_BLOCK]);
                    }
                }
            },
        );
        Q8Matrix { rows, cols, quants, scales }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    fn blocks(&self) -> usize {
        self.cols.div_ceil(Q8_BLOCK)
    }

    /// Rows `first..first + out.len() / cols` back in f32, row-major into `out`.
    fn dequantize_rows(&self, first: usize, out: &mut [f32]) {
        let blocks = self.blocks();
        for (n, row) in out.chunks_exact_mut(self.cols).enumerate() {
            let (g, i) = ((first + n) / ROWS, (first + n) % ROWS);
            for (b, values) in row.chunks_mut(Q8_BLOCK).enumerate() {
                let at = (g * blocks + b) * ROWS + i;
                let (q, scale) = (&self.quants[at * Q8_BLOCK..], self.scales[at]);
                for (v, q) in values.iter_mut().zip(q) {
                    *v = *q as f32 * scale;
                }
            }
        }
    }

    /// self (rows, cols) times `x` (cols). With AVX2, x is brought to 8 bits too, block by block
    /// as the weights, and each block is summed in integers (two multiply-adds per 32 values
    /// and row) then scaled: converting every weight to f32 first made decoding compute-bound.
    pub fn matvec(&self, x: &[f32]) -> Vec<f32> {
        let blocks = self.blocks();
        let mut x = x.to_vec();
        x.resize(blocks * Q8_BLOCK, 0.0);
        let x = QuantizedInput::new(x);
        let groups = self.rows.div_ceil(ROWS);
        let mut out = vec![0f32; groups * ROWS];
        // Two long runs of groups per thread, as for f32.
        let per_task = groups.div_ceil(2 * rayon::current_num_threads()).max(1);
        out.par_chunks_mut(per_task * ROWS).enumerate().for_each(|(task, out)| {
            for (n, o) in out.chunks_exact_mut(ROWS).enumerate() {
                let g = task * per_task + n;
                let group = &self.quants[g * blocks * ROWS * Q8_BLOCK..(g + 1) * blocks * ROWS * Q8_BLOCK];
                o.copy_from_slice(&x.dot_group(group, &self.scales[g * blocks * ROWS..(g + 1) * blocks * ROWS]));
            }
        });
        out.truncate(self.rows);
        out
    }

    /// `x` (n, cols) times selfᵀ: (n, rows). Each task turns a band of rows back into f32 in
    /// a buffer of its own and multiplies by it (prefill: many tokens at once).
    pub fn matmul_t(&self, x: &[f32], n: usize) -> Vec<f32> {
        const BAND: usize = 128;
        let (m, k) = (self.rows, self.cols);
        let mut out = vec![0f32; n * m];
        let dst = crate::nn::SharedOut(out.as_mut_ptr());
        (0..m.div_ceil(BAND)).into_par_iter().for_each_init(Vec::new, |band, t| {
            let (first, count) = (t * BAND, BAND.min(m - t * BAND));
            band.resize(count * k, 0.0);
            self.dequantize_rows(first, band);
            // SAFETY: out is n x m; this task writes columns first..first + count of every row,
            // which no other task writes; x is n x k and the band count x k, both row-major.
            unsafe {
                crate::nn::product::gemm_on_this_thread(
                    n,
                    count,
                    k,
                    (dst.at(first), m as isize),
                    (x.as_ptr(), k as isize, 1),
                    (band.as_ptr(), 1, k as isize),
                    1.0,
                )
            };
        });
        out
    }
}

/// `values` (up to a block) in 8 bits into `q`; returns the block's scale.
fn quantize_block(values: &[f32], q: &mut [i8]) -> f32 {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let inv = if max > 0.0 { 127.0 / max } else { 0.0 };
    for (q, v) in q.iter_mut().zip(values) {
        *q = (v * inv).round().clamp(-127.0, 127.0) as i8;
    }
    max / 127.0
}

/// A decoding step's input (padded to whole blocks), and where the CPU has AVX2 the same in
/// 8 bits per block of [`Q8_BLOCK`] with a scale each.
struct QuantizedInput {
    x: Vec<f32>,
    quants: Option<(Vec<i8>, Vec<f32>)>,
}

impl QuantizedInput {
    fn new(x: Vec<f32>) -> QuantizedInput {
        #[cfg(target_arch = "x86_64")]
        if crate::nn::has_avx2_fma() {
            let mut q = vec![0i8; x.len()];
            let scales = x
                .chunks_exact(Q8_BLOCK)
                .zip(q.chunks_exact_mut(Q8_BLOCK))
                .map(|(block, q)| quantize_block(block, q))
                .collect();
            return QuantizedInput { x, quants: Some((q, scales)) };
        }
        QuantizedInput { x, quants: None }
    }

    /// A group of [`ROWS`] rows (stored as [`Q8Matrix`] stores them) against the input.
    fn dot_group(&self, quants: &[i8], scales: &[f32]) -> [f32; ROWS] {
        #[cfg(target_arch = "x86_64")]
        if let Some((q, x_scales)) = &self.quants {
            assert!(quants.len() >= q.len() * ROWS && scales.len() >= x_scales.len() * ROWS, "a whole group");
            // SAFETY: quants exist only where AVX2 was detected; the group holds every block.
            return unsafe { dot_group_avx2(quants, scales, q, x_scales) };
        }
        dot_group_f32(quants, scales, &self.x)
    }
}

/// A group of 8-bit rows against an f32 input: each weight widened to f32.
fn dot_group_f32(quants: &[i8], scales: &[f32], x: &[f32]) -> [f32; ROWS] {
    let mut acc = [0f32; ROWS];
    for (b, xs) in x.chunks_exact(Q8_BLOCK).enumerate() {
        for (i, acc) in acc.iter_mut().enumerate() {
            let at = b * ROWS + i;
            let q = &quants[at * Q8_BLOCK..(at + 1) * Q8_BLOCK];
            *acc += q.iter().zip(xs).map(|(q, x)| *q as f32 * x).sum::<f32>() * scales[at];
        }
    }
    acc
}

/// A group of 8-bit rows against an 8-bit input, a block of 32 at a time: |x| times w with x's
/// sign (unsigned by signed bytes, summed in pairs to 16 bits: at most 2 x 127 x 127, no
/// overflow), pairs summed to 32 bits, then scaled by both blocks' scales into f32 sums.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_group_avx2(quants: &[i8], scales: &[f32], xq: &[i8], xs: &[f32]) -> [f32; ROWS] {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_setzero_ps(); ROWS];
    let ones = _mm256_set1_epi16(1);
    let (mut w, mut s) = (quants.as_ptr(), scales.as_ptr());
    for (b, &x_scale) in xs.iter().enumerate() {
        let x = _mm256_loadu_si256(xq.as_ptr().add(b * Q8_BLOCK) as *const __m256i);
        let x_abs = _mm256_sign_epi8(x, x);
        // The group is one stream: asking for the lines PREFETCH bytes ahead keeps more reads
        // in flight than the hardware prefetcher alone.
        _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(PREFETCH) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(PREFETCH + 64) as *const i8);
        for acc in acc.iter_mut() {
            let pairs = _mm256_maddubs_epi16(x_abs, _mm256_sign_epi8(_mm256_loadu_si256(w as *const __m256i), x));
            let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
            *acc = _mm256_fmadd_ps(sums, _mm256_set1_ps(*s * x_scale), *acc);
            (w, s) = (w.add(Q8_BLOCK), s.add(1));
        }
    }
    std::array::from_fn(|i| {
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), acc[i]);
        lanes.iter().sum()
    })
}

/// A linear layer without bias whose single-row inputs take the streaming path; its weights
/// in f32 / bf16, or in 8 bits once [`Proj::quantize`]d.
pub enum Proj {
    Dense(Linear),
    Q8(Q8Matrix),
}

impl Proj {
    pub fn new(linear: Linear) -> Proj {
        Proj::Dense(linear)
    }

    /// The weights in 8 bits from now on (the f32 or bf16 ones are let go). Weights on a GPU
    /// stay as they are: the 8-bit kernels are the CPU's.
    pub fn quantize(&mut self) -> candle_core::Result<()> {
        if let Proj::Dense(linear) = self {
            if !linear.weight().device().is_cpu() {
                return Ok(());
            }
            let (rows, cols) = linear.weight().dims2()?;
            let w = linear.weight().to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            *self = Proj::Q8(Q8Matrix::quantize(&w, rows, cols));
        }
        Ok(())
    }

    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let k = xs.dims().last().copied().unwrap_or(0);
        let rows = xs.elem_count() / k.max(1);
        let linear = match self {
            Proj::Q8(q) => return on_rows(xs, q.rows(), |x| if rows == 1 { q.matvec(x) } else { q.matmul_t(x, rows) }),
            Proj::Dense(linear) => linear,
        };
        let weight = linear.weight();
        if rows != 1 || linear.bias().is_some() || !weight.is_contiguous() || !xs.device().is_cpu() {
            return linear.forward(xs);
        }
        let (storage, layout) = weight.storage_and_layout();
        let (start, n) = (layout.start_offset(), weight.dim(0)?);
        match &*storage {
            Storage::Cpu(CpuStorage::F32(w)) => on_rows(xs, n, |x| matvec(&w[start..start + n * k], k, x)),
            Storage::Cpu(CpuStorage::BF16(w)) => on_rows(xs, n, |x| matvec(&w[start..start + n * k], k, x)),
            _ => linear.forward(xs),
        }
    }
}

/// `product` of xs's values (in f32), as a tensor shaped as xs with `width` for its last axis.
fn on_rows(xs: &Tensor, width: usize, product: impl FnOnce(&[f32]) -> Vec<f32>) -> candle_core::Result<Tensor> {
    let out = product(&xs.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?);
    let mut shape = xs.dims().to_vec();
    *shape.last_mut().expect("a product's input has an axis") = width;
    Tensor::from_vec(out, shape, xs.device())?.to_dtype(xs.dtype())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn a_single_row_matches_the_general_product() {
        let w = Tensor::randn(0f32, 1.0, (70, 45), &Device::Cpu).unwrap();
        let x = Tensor::randn(0f32, 1.0, (1, 1, 45), &Device::Cpu).unwrap();
        for dtype in [DType::F32, DType::BF16] {
            let proj = Proj::new(Linear::new(w.to_dtype(dtype).unwrap(), None));
            let fast = proj.forward(&x.to_dtype(dtype).unwrap()).unwrap().to_dtype(DType::F32).unwrap();
            let general = x
                .to_dtype(dtype)
                .unwrap()
                .broadcast_matmul(&w.to_dtype(dtype).unwrap().t().unwrap())
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            let diff = (fast - general).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < if dtype == DType::F32 { 1e-4 } else { 0.1 }, "{dtype:?}: {diff}");
        }
    }

    #[test]
    fn eight_bit_weights_give_the_product_within_their_rounding() {
        // 45 columns: one whole block and a padded one; 70 rows: groups of four and a remainder.
        let w = Tensor::randn(0f32, 1.0, (70, 45), &Device::Cpu).unwrap();
        let x = Tensor::randn(0f32, 1.0, (3, 45), &Device::Cpu).unwrap();
        let exact = x.matmul(&w.t().unwrap()).unwrap();
        let mut proj = Proj::new(Linear::new(w.clone(), None));
        proj.quantize().unwrap();
        // Each weight, and on the integer path each input, is off by at most half a step (the
        // block's largest magnitude / 254); 45 such errors on both sides stay under this bound.
        let bound = 2.0 * 45.0 * (4.5 / 254.0) * 4.5;
        for rows in [1, 3] {
            let x = x.narrow(0, 0, rows).unwrap();
            let got = proj.forward(&x).unwrap();
            let diff = (got - exact.narrow(0, 0, rows).unwrap())
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < bound && diff > 0.0, "{rows} rows: {diff}");
        }
        let back = match &proj {
            Proj::Q8(q) => {
                let mut out = vec![0f32; 70 * 45];
                q.dequantize_rows(0, &mut out);
                out
            }
            Proj::Dense(_) => unreachable!("quantised above"),
        };
        let w = w.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // The integer sums are the f32 sums of the same 8-bit values.
        let mut x = x.get(0).unwrap().to_vec1::<f32>().unwrap();
        x.resize(64, 0.0);
        let input = QuantizedInput::new(x);
        if let (Proj::Q8(q), Some((xq, xs))) = (&proj, &input.quants) {
            let widened: Vec<f32> = xq.iter().enumerate().map(|(i, &v)| v as f32 * xs[i / Q8_BLOCK]).collect();
            let (group, scales) = (&q.quants[..2 * ROWS * Q8_BLOCK], &q.scales[..2 * ROWS]);
            let (int, float) = (input.dot_group(group, scales), dot_group_f32(group, scales, &widened));
            for (a, b) in int.iter().zip(&float) {
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{int:?} vs {float:?}");
            }
        }
        for (r, (a, b)) in back.chunks(45).zip(w.chunks(45)).enumerate() {
            for (blk, (a, b)) in a.chunks(Q8_BLOCK).zip(b.chunks(Q8_BLOCK)).enumerate() {
                let step = b.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() <= step / 2.0 + 1e-6), "row {r} block {blk}");
            }
        }
    }
}
