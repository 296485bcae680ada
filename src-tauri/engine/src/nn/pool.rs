//! Max pooling on the CPU.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};
use rayon::prelude::*;

use super::cpu::contiguous;

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
}
