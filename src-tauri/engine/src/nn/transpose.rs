//! Transposed convolutions whose kernel equals their stride, as one product and a scatter.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};
use rayon::prelude::*;

use super::conv::pointwise;
use super::cpu::contiguous;
use super::epilogue::Act;
use super::product::WeightMatrix;

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

#[cfg(test)]
mod tests {
    use super::super::testing::ramp;
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn tiled_transposed_convolution_matches_candle() {
        let (c_in, c_out, k, h, w) = (5, 3, 2, 4, 7);
        let x = ramp((2, c_in, h, w), 0.01, -0.4);
        let wt = ramp((c_in, c_out, k, k), 0.02, -0.5);
        let bias = [0.1f32, -0.2, 0.3];
        let op = TiledTranspose::new(&wt.flatten_all().unwrap().to_vec1::<f32>().unwrap(), c_in, c_out, k, Some(&bias));
        let ours = x.apply_op1_no_bwd(&op).unwrap();
        let b = Tensor::new(&bias, &Device::Cpu).unwrap().reshape((1, c_out, 1, 1)).unwrap();
        let reference = x.conv_transpose2d(&wt, 0, 0, k, 1).unwrap().broadcast_add(&b).unwrap();
        assert_eq!(ours.dims(), reference.dims());
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
    }
}
