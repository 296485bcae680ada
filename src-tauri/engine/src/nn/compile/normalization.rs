//! Compiling normalisations and reductions: batch norm (folded into the convolution before it
//! where it can be), the mean over axes, softmax.

use candle_core::{Device, Tensor};

use super::Compiler;
use crate::nn::error::{Error, Result};
use crate::nn::onnx::NodeProto;
use crate::nn::ops::Op;

impl Compiler {
    /// BatchNormalization, ReduceMean, Softmax.
    pub(in crate::nn) fn normalization(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        match node.op_type.as_str() {
            "BatchNormalization" => {
                let eps = node.attr_f("epsilon", 1e-5);
                let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| self.const_f32(&ins[i]).map(|c| c.1));
                let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
                let scale: Vec<f32> = gamma.iter().zip(&var).map(|(g, v)| g / (v + eps).sqrt()).collect();
                let shift: Vec<f32> = beta.iter().zip(&mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
                let x = self.first_input(node)?;
                let only_reader = self.readers.get(&ins[0]) == Some(&1);
                if let (true, Some(&k)) = (only_reader, self.producer.get(&x)) {
                    if let Op::Conv { weight, bias, .. } = &mut self.steps[k].op {
                        fold_affine(weight, bias, &scale, &shift)?;
                        self.slots.insert(node.output[0].clone(), x);
                        return Ok(());
                    }
                }
                let n = scale.len();
                let scale = Tensor::from_vec(scale, (1, n, 1, 1), &Device::Cpu)?;
                let shift = Tensor::from_vec(shift, (1, n, 1, 1), &Device::Cpu)?;
                self.push(node, Op::ChannelAffine(scale, shift), vec![x]);
            }
            "ReduceMean" => {
                let axes = match ins.get(1).filter(|n| !n.is_empty()) {
                    Some(n) => self.const_ints(n)?,
                    None => node.attr_ints("axes"),
                };
                if axes.is_empty() {
                    return Err(Error::Unsupported("ReduceMean over all axes is not supported".into()));
                }
                self.push_on_first(node, Op::ReduceMean(axes, node.attr_i("keepdims", 1) != 0))?;
            }
            "Softmax" => self.push_on_first(node, Op::Softmax(node.attr_i("axis", -1)))?,
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }
}

/// Fold y = conv(x) * scale + shift (per output channel) into the convolution's weights.
fn fold_affine(
    weight: &mut Tensor,
    bias: &mut Option<Vec<f32>>,
    scale: &[f32],
    shift: &[f32],
) -> candle_core::Result<()> {
    let n = scale.len();
    let s = Tensor::from_slice(scale, (n, 1, 1, 1), &Device::Cpu)?;
    *weight = weight.broadcast_mul(&s)?;
    let b = bias.take().unwrap_or_else(|| vec![0.0; n]);
    *bias = Some(b.iter().zip(scale).zip(shift).map(|((b, s), t)| b * s + t).collect());
    Ok(())
}
