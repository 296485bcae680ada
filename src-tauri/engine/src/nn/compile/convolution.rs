//! Compiling convolutions, transposed convolutions and products by constant weights.

use super::Compiler;
use crate::nn::conv::Window;
use crate::nn::epilogue::Act;
use crate::nn::error::{Error, Result};
use crate::nn::onnx::NodeProto;
use crate::nn::ops::{Binary, Op, Operand};
use crate::nn::product::Linear;
use crate::nn::transpose::TiledTranspose;

impl Compiler {
    /// Conv, ConvTranspose, and MatMul (by constant weights: one product with its bias).
    pub(in crate::nn) fn convolution(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        match node.op_type.as_str() {
            "Conv" => {
                let weight = self.tensor(&ins[1])?;
                let (out_c, in_per_group, _, _) = weight.dims4()?;
                let group = node.attr_i("group", 1) as usize;
                let (strides, pads) = (node.attr_ints("strides"), node.attr_ints("pads"));
                let (sy, sx) = (*strides.first().unwrap_or(&1) as usize, *strides.get(1).unwrap_or(&1) as usize);
                let (kh, kw) = (weight.dims()[2], weight.dims()[3]);
                let x = self.first_input(node)?;
                let pads: Vec<usize> = match node.attr_s("auto_pad").as_str() {
                    "" | "NOTSET" if pads.is_empty() => vec![0; 4],
                    "" | "NOTSET" | "VALID" => pads.iter().map(|&p| p.max(0) as usize).collect(),
                    // "Same" output size at stride 1: the kernel's overhang, the odd pixel after.
                    "SAME_UPPER" if sy == 1 && sx == 1 => vec![(kh - 1) / 2, (kw - 1) / 2, kh / 2, kw / 2],
                    other => {
                        return Err(Error::Unsupported(format!(
                            "auto_pad {other} is not supported at strides {sy}x{sx}"
                        )))
                    }
                };
                // ONNX pads: [top, left, bottom, right].
                let [top, left, bottom, right] = pads[..] else {
                    return Err(Error::Unsupported(format!("a convolution with {} pads", pads.len())));
                };
                if node.attr_ints("dilations").iter().any(|&d| d != 1) {
                    return Err(Error::Unsupported("only convolutions without dilation are supported".into()));
                }
                let depthwise = group > 1 && group == out_c && in_per_group == 1;
                let window = Window { kh, kw, sy, sx, top, left, bottom, right };
                if group > 1 && !depthwise {
                    return Err(Error::Unsupported(format!(
                        "grouped convolution with {group} groups is not supported"
                    )));
                }
                let bias = if ins.len() > 2 && !ins[2].is_empty() { Some(self.const_f32(&ins[2])?.1) } else { None };
                self.push(
                    node,
                    Op::Conv { weight, bias, window, depthwise, act: Act::Identity, matrix: None },
                    vec![x],
                );
            }
            "ConvTranspose" => {
                let weight = self.tensor(&ins[1])?;
                let (stride, pad) = (node.attr_ints("strides"), node.attr_ints("pads"));
                let (s, p) = (*stride.first().unwrap_or(&1) as usize, *pad.first().unwrap_or(&0) as usize);
                let square = stride.iter().all(|&v| v as usize == s) && pad.iter().all(|&v| v as usize == p);
                if node.attr_i("group", 1) != 1
                    || !square
                    || node.attr_ints("dilations").iter().any(|&d| d != 1)
                    || !node.attr_ints("output_padding").iter().all(|&v| v == 0)
                {
                    return Err(Error::Unsupported(
                        "only square, ungrouped transposed convolutions without output padding are supported".into(),
                    ));
                }
                let bias = if ins.len() > 2 && !ins[2].is_empty() { Some(self.const_f32(&ins[2])?.1) } else { None };
                let (c_in, c_out, kh, kw) = weight.dims4()?;
                let tiled = if kh == s && kw == s && p == 0 {
                    let data: Vec<f32> = weight.flatten_all().and_then(|w| w.to_vec1())?;
                    Some(TiledTranspose::new(&data, c_in, c_out, s, bias.as_deref()))
                } else {
                    None
                };
                self.push_on_first(node, Op::ConvTranspose { weight, bias, stride: s, pad: p, tiled })?;
            }
            "MatMul" => {
                let (a, b) = (self.operand(&ins[0])?, self.operand(&ins[1])?);
                if let (Operand::Slot(x), Operand::Const(w)) = (&a, &b) {
                    if let [depth, width] = w.dims()[..] {
                        let data: Vec<f32> = w.flatten_all().and_then(|w| w.to_vec1())?;
                        self.push(node, Op::Linear(Linear::new(data, depth, width)), vec![*x]);
                        return Ok(());
                    }
                }
                self.push(node, Op::Binary(Binary::MatMul, a, b), vec![]);
            }
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }
}
