//! The operators the graph runner executes, each on candle tensors (or the kernels beside
//! them): what a compiled step does with its inputs.

use candle_core::{DType, Tensor};

use super::conv::{Convolution, Depthwise, Window};
use super::elementwise::{softmax_last, unary, zip_map, Unary};
use super::epilogue::{Act, Epilogue};
use super::pool::MaxPool;
use super::product::{Linear, WeightMatrix};
use super::transpose::TiledTranspose;

#[derive(Debug)]
pub(super) enum Operand {
    Slot(usize),
    Const(Tensor),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Binary {
    Add,
    Mul,
    Div,
    Sub,
    MatMul,
}

#[derive(Debug)]
pub(super) enum Op {
    Conv {
        weight: Tensor,
        bias: Option<Vec<f32>>,
        window: Window,
        depthwise: bool,
        act: Act,
        /// The weights as a matrix (output channels x inputs per output), for full
        /// convolutions; set once the graph is compiled and its weights are final.
        matrix: Option<WeightMatrix>,
    },
    /// x * clip(x + 3, 0, 6) / 6, recognised from its four nodes.
    HardSwish,
    /// GELU, recognised from its five nodes.
    Gelu,
    /// A step whose work was fused into another.
    Fused,
    Binary(Binary, Operand, Operand),
    /// A product by constant weights over the last axis, with its bias.
    Linear(Linear),
    Clip(f32, f32),
    Sigmoid,
    Relu,
    HardSigmoid(f32, f32),
    /// Batch norm that could not be folded: y = x * scale + shift per channel.
    ChannelAffine(Tensor, Tensor),
    GlobalAveragePool,
    Upsample(usize),
    /// Transposed convolution (square kernel and stride, no groups), then its bias.
    ConvTranspose {
        weight: Tensor,
        bias: Option<Vec<f32>>,
        stride: usize,
        pad: usize,
        /// Where the kernel equals the stride and there is no padding: the same as one product.
        tiled: Option<TiledTranspose>,
    },
    Concat(usize),
    /// A constant as a value (for operators whose inputs are all values, like Concat).
    Const(Tensor),
    /// The input's dimensions as a 1-D i64 tensor.
    Shape,
    /// (axis, start, end) ranges, ends clamped to the dimension.
    Slice(Vec<(usize, i64, i64)>),
    /// Reshape to a target computed at run time (the second input, i64).
    ReshapeDyn,
    Softmax(i64),
    /// Mean over axes (negative from the end), keeping them as size 1 or not.
    ReduceMean(Vec<i64>, bool),
    Pow(f32),
    Sqrt,
    /// Remove (false) or insert (true) size-1 axes.
    Squeeze(Vec<i64>, bool),
    /// Average pooling without padding: (kh, kw), (sy, sx).
    AveragePool((usize, usize), (usize, usize)),
    /// Max pooling: (kh, kw), (sy, sx), and "same" padding (extra at the end: SAME_UPPER) or none.
    MaxPool((usize, usize), (usize, usize), bool),
    Erf,
    Split(usize, Vec<usize>),
    Reshape(Vec<i64>),
    Transpose(Vec<usize>),
}

/// One step of a compiled graph: an operator, the slots it reads and the slots it writes.
#[derive(Debug)]
pub(super) struct Step {
    pub(super) op: Op,
    pub(super) inputs: Vec<usize>,
    pub(super) outputs: Vec<usize>,
}

impl Step {
    /// Slots read by the step (its inputs and binary operands).
    pub(super) fn reads(&self) -> Vec<usize> {
        let mut r = self.inputs.clone();
        if let Op::Binary(_, a, b) = &self.op {
            r.extend([a, b].into_iter().filter_map(|o| if let Operand::Slot(i) = o { Some(*i) } else { None }));
        }
        r
    }
}

pub(super) fn run_op(op: &Op, args: &[Tensor]) -> candle_core::Result<Vec<Tensor>> {
    if let Op::Const(t) = op {
        return Ok(vec![t.clone()]);
    }
    let Some(x) = args.first() else { candle_core::bail!("{op:?} has no input") };
    Ok(vec![match op {
        Op::Conv { weight, bias, window, depthwise, act, matrix } => {
            if *depthwise {
                return Ok(vec![x
                    .contiguous()?
                    .apply_op2_no_bwd(weight, &Depthwise { window: *window, bias: bias.clone(), act: *act })?]);
            }
            let Some(matrix) = matrix else { candle_core::bail!("convolution run before its weights were laid out") };
            x.contiguous()?.apply_op1_no_bwd(&Convolution {
                matrix,
                window: *window,
                bias: bias.as_deref(),
                act: *act,
            })?
        }
        Op::HardSwish => {
            let y = x.copy()?;
            y.inplace_op1(&Epilogue { bias: None, act: Act::HardSwish })?;
            y
        }
        Op::Gelu => unary(x, Unary::Gelu)?,
        Op::Linear(linear) => x.contiguous()?.apply_op1_no_bwd(linear)?,
        Op::Fused => unreachable!("fused steps are removed before running"),
        Op::Clip(lo, hi) => x.clamp(*lo, *hi)?,
        Op::Sigmoid => unary(x, Unary::Sigmoid)?,
        Op::Relu => unary(x, Unary::Relu)?,
        Op::HardSigmoid(alpha, beta) => x.affine(*alpha as f64, *beta as f64)?.clamp(0f32, 1f32)?,
        Op::ChannelAffine(scale, shift) => x.broadcast_mul(scale)?.broadcast_add(shift)?,
        Op::GlobalAveragePool => x.mean_keepdim(3)?.mean_keepdim(2)?,
        Op::ConvTranspose { tiled: Some(tiled), .. } => x.contiguous()?.apply_op1_no_bwd(tiled)?,
        Op::ConvTranspose { weight, bias, stride, pad, tiled: None } => {
            let y = x.contiguous()?.conv_transpose2d(weight, *pad, 0, *stride, 1)?;
            y.inplace_op1(&Epilogue { bias: bias.clone(), act: Act::Identity })?;
            y
        }
        Op::Upsample(f) => {
            let (_, _, h, w) = x.dims4()?;
            x.upsample_nearest2d(h * f, w * f)?
        }
        Op::Concat(axis) => Tensor::cat(args, *axis)?,
        Op::Const(_) => unreachable!("constants return above"),
        Op::Shape => Tensor::new(x.dims().iter().map(|&d| d as i64).collect::<Vec<_>>(), x.device())?,
        Op::Slice(ranges) => {
            let mut y = x.clone();
            for &(axis, start, end) in ranges {
                let n = y.dim(axis)? as i64;
                let clamp = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
                let (a, b) = (clamp(start), clamp(end));
                y = y.narrow(axis, a as usize, (b - a).max(0) as usize)?;
            }
            y
        }
        Op::ReshapeDyn => {
            let spec: Vec<i64> = args[1].to_dtype(DType::I64)?.to_vec1()?;
            x.contiguous()?.reshape(reshape_target(x.dims(), &spec)?)?
        }
        Op::ReduceMean(axes, keep) => {
            let dims: Vec<usize> = axes_of(axes, x.rank());
            let mut y = x.clone();
            for &d in dims.iter().rev() {
                y = if *keep { y.mean_keepdim(d)? } else { y.mean(d)? };
            }
            y
        }
        Op::Pow(e) if *e == 2.0 => x.sqr()?,
        Op::Pow(e) => x.powf(*e as f64)?,
        Op::Sqrt => x.sqrt()?,
        Op::Squeeze(axes, insert) => {
            let mut y = x.clone();
            if *insert {
                // Axes count in the output; insert from the lowest.
                let rank = (x.rank() + axes.len()) as i64;
                let dims: Vec<usize> = axes_of(axes, rank as usize);
                for d in dims {
                    y = y.unsqueeze(d)?;
                }
            } else {
                let rank = x.rank() as i64;
                let dims: Vec<usize> = axes_of(axes, rank as usize);
                for d in dims.into_iter().rev() {
                    y = y.squeeze(d)?;
                }
            }
            y
        }
        Op::AveragePool(k, s) => x.contiguous()?.avg_pool2d_with_stride(*k, *s)?,
        Op::MaxPool(kernel, stride, same) => {
            x.contiguous()?.apply_op1_no_bwd(&MaxPool { kernel: *kernel, stride: *stride, same: *same })?
        }
        Op::Erf => unary(x, Unary::Erf)?,
        Op::Softmax(axis) => {
            let axis = axes_of(&[*axis], x.rank())[0];
            if axis + 1 == x.rank() {
                return Ok(vec![softmax_last(x)?]);
            }
            let e = x.broadcast_sub(&x.max_keepdim(axis)?)?.exp()?;
            e.broadcast_div(&e.sum_keepdim(axis)?)?
        }
        Op::Split(axis, sizes) => {
            let mut start = 0;
            let mut parts = Vec::new();
            for &s in sizes {
                parts.push(x.narrow(*axis, start, s)?);
                start += s;
            }
            return Ok(parts);
        }
        Op::Reshape(spec) => x.contiguous()?.reshape(reshape_target(x.dims(), spec)?)?,
        Op::Transpose(perm) => x.permute(perm.clone())?.contiguous()?,
        Op::Binary(..) => unreachable!("binary ops are run by the caller"),
    }])
}

/// a op b with ONNX broadcasting: on all cores where `zip_map` takes the shapes (for the
/// commutative operators, either way round), otherwise through candle.
pub(super) fn binary(kind: Binary, a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let fast = match kind {
        Binary::Add => match zip_map(a, b, |x, y| x + y)? {
            None => zip_map(b, a, |x, y| x + y)?,
            some => some,
        },
        Binary::Mul => match zip_map(a, b, |x, y| x * y)? {
            None => zip_map(b, a, |x, y| x * y)?,
            some => some,
        },
        Binary::Sub => zip_map(a, b, |x, y| x - y)?,
        Binary::Div => zip_map(a, b, |x, y| x / y)?,
        Binary::MatMul => None,
    };
    if let Some(y) = fast {
        return Ok(y);
    }
    match kind {
        Binary::Add => a.broadcast_add(b),
        Binary::Mul => a.broadcast_mul(b),
        Binary::Div => a.broadcast_div(b),
        Binary::Sub => a.broadcast_sub(b),
        Binary::MatMul => a.broadcast_matmul(b),
    }
}

/// ONNX axes (negative ones count from the end) as indices, sorted, for a tensor of `rank`.
pub(super) fn axes_of(axes: &[i64], rank: usize) -> Vec<usize> {
    let mut v: Vec<usize> =
        axes.iter().map(|&a| if a < 0 { (rank as i64 + a).max(0) as usize } else { a as usize }).collect();
    v.sort_unstable();
    v
}

/// Whether candle can lay out a tensor of these dimensions: the product of the non-zero ones
/// (its strides multiply them even when a zero makes the tensor empty) fits a usize.
pub(super) fn fits(dims: &[usize]) -> bool {
    dims.iter().filter(|&&d| d != 0).try_fold(1usize, |a, &d| a.checked_mul(d)).is_some()
}

/// ONNX Reshape's target: 0 keeps the input's dimension, -1 takes what is left.
pub(super) fn reshape_target(dims: &[usize], spec: &[i64]) -> candle_core::Result<Vec<usize>> {
    // A spec from the model file may reach past the input's rank or ask for a size that
    // overflows.
    let bad = || candle_core::Error::Msg(format!("cannot reshape {dims:?} to {spec:?}"));
    let product = |v: &[usize]| v.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(bad);
    let fixed = |i: usize, d: i64| if d == 0 { dims.get(i).copied().ok_or_else(bad) } else { Ok(d as usize) };
    let known: Vec<usize> = spec
        .iter()
        .enumerate()
        .filter(|(_, &d)| d >= 0)
        .map(|(i, &d)| fixed(i, d))
        .collect::<candle_core::Result<_>>()?;
    let (known, total) = (product(&known)?, product(dims)?);
    let target: Vec<usize> = spec
        .iter()
        .enumerate()
        .map(|(i, &d)| if d < 0 { Ok(total / known.max(1)) } else { fixed(i, d) })
        .collect::<candle_core::Result<_>>()?;
    if !fits(&target) || product(&target)? != total {
        return Err(bad());
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reshape_targets_keep_zeros_and_fill_minus_one() {
        assert_eq!(super::reshape_target(&[1, 10, 4, 5], &[1, 10, -1]).unwrap(), vec![1, 10, 20]);
        assert_eq!(super::reshape_target(&[2, 3, 4], &[0, -1]).unwrap(), vec![2, 12]);
    }

    #[test]
    fn reshape_targets_past_the_rank_or_overflowing_are_malformed() {
        assert!(super::reshape_target(&[2, 3], &[0, 0, 0]).is_err());
        assert!(super::reshape_target(&[2, 3], &[i64::MAX, i64::MAX]).is_err());
        assert!(super::reshape_target(&[usize::MAX, 2], &[-1]).is_err());
        assert!(super::reshape_target(&[2, 3], &[4, 2]).is_err(), "a different size");
        assert!(super::reshape_target(&[0, 3], &[0, i64::MAX, 4]).is_err(), "empty, but strides overflow");
    }
}
