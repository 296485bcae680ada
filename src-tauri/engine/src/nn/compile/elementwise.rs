//! Compiling element-wise arithmetic and activations; a bias added after a convolution or
//! product becomes its bias.

use candle_core::{DType, Tensor};

use super::Compiler;
use crate::nn::epilogue::Act;
use crate::nn::error::{Error, Result};
use crate::nn::onnx::NodeProto;
use crate::nn::ops::{Binary, Op, Operand};

impl Compiler {
    /// Add, Mul, Div, Sub, Clip, Sigmoid, Relu, HardSigmoid, HardSwish, Erf, Pow, Sqrt.
    pub(in crate::nn) fn elementwise(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        match node.op_type.as_str() {
            "Add" | "Mul" | "Div" | "Sub" => {
                let kind = match node.op_type.as_str() {
                    "Add" => Binary::Add,
                    "Mul" => Binary::Mul,
                    "Sub" => Binary::Sub,
                    _ => Binary::Div,
                };
                let (a, b) = (self.operand(&ins[0])?, self.operand(&ins[1])?);
                if let (Binary::Add, Operand::Slot(x), Operand::Const(c))
                | (Binary::Add, Operand::Const(c), Operand::Slot(x)) = (kind, &a, &b)
                {
                    // A bias added after a convolution without one: the convolution's bias.
                    let (x, name) = (*x, if matches!(a, Operand::Slot(_)) { &ins[0] } else { &ins[1] });
                    if self.readers.get(name) == Some(&1) && self.fold_bias(x, c)? {
                        self.slots.insert(node.output[0].clone(), x);
                        return Ok(());
                    }
                }
                self.push(node, Op::Binary(kind, a, b), vec![]);
            }
            "Clip" => {
                let bound = |i: usize, default: f32| -> Result<f32> {
                    match ins.get(i).filter(|n| !n.is_empty()) {
                        Some(n) => self.const_f32(n).map(|c| c.1.first().copied().unwrap_or(default)),
                        None => Ok(node.attr(if i == 1 { "min" } else { "max" }).map_or(default, |a| a.f)),
                    }
                };
                let op = Op::Clip(bound(1, f32::NEG_INFINITY)?, bound(2, f32::INFINITY)?);
                self.push_on_first(node, op)?;
            }
            "Sigmoid" => self.push_on_first(node, Op::Sigmoid)?,
            "Relu" => self.push_on_first(node, Op::Relu)?,
            "HardSigmoid" => {
                let op = Op::HardSigmoid(node.attr_f("alpha", 0.2), node.attr_f("beta", 0.5));
                self.push_on_first(node, op)?;
            }
            "HardSwish" => self.push_on_first(node, Op::HardSwish)?,
            "Erf" => self.push_on_first(node, Op::Erf)?,
            "Pow" => {
                let e =
                    self.const_f32(ins.get(1).ok_or_else(|| Error::Malformed("Pow without an exponent".into()))?)?.1;
                let [e] = e[..] else {
                    return Err(Error::Unsupported("only a scalar constant exponent is supported".into()));
                };
                self.push_on_first(node, Op::Pow(e))?;
            }
            "Sqrt" => self.push_on_first(node, Op::Sqrt)?,
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }

    /// Add a per-channel constant (shape [C, 1, 1] or [1, C, 1, 1]) to the bias of the
    /// convolution computing `slot`, if one does; whether it did.
    fn fold_bias(&mut self, slot: usize, c: &Tensor) -> candle_core::Result<bool> {
        let Some(&k) = self.producer.get(&slot) else { return Ok(false) };
        if let Op::Linear(linear) = &mut self.steps[k].op {
            // A bias over the last axis of a product by weights (1-D, so the sum's shape is the product's).
            if c.dims() != [linear.width()] || c.dtype() != DType::F32 {
                return Ok(false);
            }
            linear.add_bias(&c.flatten_all()?.to_vec1()?);
            return Ok(true);
        }
        let Op::Conv { weight, bias, act: Act::Identity, .. } = &mut self.steps[k].op else { return Ok(false) };
        let n = weight.dim(0)?;
        let dims = c.dims();
        let per_channel = dims.len() >= 3 && dims.len() <= 4 && dims[dims.len() - 3] == n && c.elem_count() == n;
        if !per_channel || c.dtype() != DType::F32 {
            return Ok(false);
        }
        let add: Vec<f32> = c.flatten_all()?.to_vec1()?;
        let b = bias.take().unwrap_or_else(|| vec![0.0; n]);
        *bias = Some(b.iter().zip(&add).map(|(b, a)| b + a).collect());
        Ok(true)
    }
}
