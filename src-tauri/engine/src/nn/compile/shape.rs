//! Compiling the operators on shapes and layouts: constants, reshaping, concatenation,
//! splitting, slicing, squeezing and transposing. Where the input is a constant, so is the result.

use super::{file_constant, Compiler};
use crate::nn::error::{Error, Result};
use crate::nn::onnx::NodeProto;
use crate::nn::ops::{axes_of, reshape_target, Op};

impl Compiler {
    /// Constant, Identity, Shape, Reshape, Concat, Split, Slice, Squeeze, Unsqueeze, Transpose.
    pub(in crate::nn) fn shape(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        match node.op_type.as_str() {
            "Constant" => {
                let t = node
                    .attr("value")
                    .and_then(|a| a.t.as_ref())
                    .ok_or_else(|| Error::Malformed("Constant without a tensor value".into()))?;
                self.consts.insert(node.output[0].clone(), file_constant(t)?);
            }
            "Identity" => {
                // The output is the input's value under another name.
                let x = self.first_input(node)?;
                self.slots.insert(node.output[0].clone(), x);
            }
            "Concat" => {
                let axis = node.attr_i("axis", 0) as usize;
                let inputs = ins.iter().map(|i| self.value_slot(i)).collect::<Result<Vec<_>>>()?;
                self.push(node, Op::Concat(axis), inputs);
            }
            "Split" => {
                let axis = node.attr_i("axis", 0) as usize;
                let sizes = match ins.get(1) {
                    Some(n) => self.const_ints(n)?,
                    None => node.attr_ints("split"),
                };
                if sizes.len() != node.output.len() {
                    return Err(Error::Unsupported("Split needs explicit sizes for every output".into()));
                }
                self.push_on_first(node, Op::Split(axis, sizes.iter().map(|&s| s as usize).collect()))?;
            }
            "Reshape" if self.consts.contains_key(&ins[0]) => {
                // A constant reshaped (a bias made 1 x C x 1 x 1) stays a constant.
                let (shape, data) = self.consts[&ins[0]].clone();
                let target = reshape_target(&shape, &self.const_ints(&ins[1])?)?;
                self.consts.insert(node.output[0].clone(), (target, data));
            }
            "Reshape" if self.consts.contains_key(&ins[1]) => {
                let spec = self.const_ints(&ins[1])?;
                self.push_on_first(node, Op::Reshape(spec))?;
            }
            "Reshape" => {
                let inputs = vec![self.first_input(node)?, self.input_slot(&ins[1])?];
                self.push(node, Op::ReshapeDyn, inputs);
            }
            "Shape" => self.push_on_first(node, Op::Shape)?,
            "Slice" => {
                let get = |i: usize| -> Result<Option<Vec<i64>>> {
                    ins.get(i).filter(|n| !n.is_empty()).map(|n| self.const_ints(n)).transpose()
                };
                let (starts, ends) = (
                    get(1)?.ok_or_else(|| Error::Malformed("Slice without starts".into()))?,
                    get(2)?.ok_or_else(|| Error::Malformed("Slice without ends".into()))?,
                );
                let axes = get(3)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
                if get(4)?.is_some_and(|steps| steps.iter().any(|&s| s != 1)) {
                    return Err(Error::Unsupported("only Slice with step 1 is supported".into()));
                }
                if axes.iter().any(|&a| a < 0) {
                    return Err(Error::Unsupported("only Slice with non-negative axes is supported".into()));
                }
                let ranges =
                    axes.iter().zip(starts.iter().zip(&ends)).map(|(&a, (&s, &e))| (a as usize, s, e)).collect();
                self.push_on_first(node, Op::Slice(ranges))?;
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = match ins.get(1).filter(|n| !n.is_empty()) {
                    Some(n) => self.const_ints(n)?,
                    None => node.attr_ints("axes"),
                };
                if axes.is_empty() {
                    return Err(Error::Unsupported(format!("{} without axes is not supported", node.op_type)));
                }
                let insert = node.op_type == "Unsqueeze";
                if let Some((shape, data)) = self.consts.get(&ins[0]).cloned() {
                    // Constant in, constant out: only the shape changes.
                    let mut shape = shape;
                    if insert {
                        let rank = (shape.len() + axes.len()) as i64;
                        let dims: Vec<usize> = axes_of(&axes, rank as usize);
                        for d in dims {
                            shape.insert(d.min(shape.len()), 1);
                        }
                    } else {
                        let rank = shape.len() as i64;
                        let drop: Vec<usize> = axes_of(&axes, rank as usize);
                        shape = shape.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, &d)| d).collect();
                    }
                    self.consts.insert(node.output[0].clone(), (shape, data));
                } else {
                    self.push_on_first(node, Op::Squeeze(axes, insert))?;
                }
            }
            "Transpose" => {
                let perm = node.attr_ints("perm").iter().map(|&p| p as usize).collect();
                self.push_on_first(node, Op::Transpose(perm))?;
            }
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }
}
