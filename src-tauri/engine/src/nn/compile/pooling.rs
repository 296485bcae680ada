//! Compiling pooling and nearest upsampling.

use super::Compiler;
use crate::nn::error::{Error, Result};
use crate::nn::onnx::NodeProto;
use crate::nn::ops::Op;

impl Compiler {
    /// MaxPool, AveragePool, GlobalAveragePool, and Resize (nearest, by an integer factor).
    pub(in crate::nn) fn pooling(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        match node.op_type.as_str() {
            "MaxPool" => {
                let (k, s, p) = (node.attr_ints("kernel_shape"), node.attr_ints("strides"), node.attr_ints("pads"));
                let same = match node.attr_s("auto_pad").as_str() {
                    "SAME_UPPER" => true,
                    "" | "NOTSET" | "VALID" => false,
                    other => {
                        return Err(Error::Unsupported(format!("max pooling with auto_pad {other} is not supported")))
                    }
                };
                if k.len() != 2 || p.iter().any(|&v| v != 0) || node.attr_i("ceil_mode", 0) != 0 {
                    return Err(Error::Unsupported(
                        "only 2-D max pooling without explicit padding is supported".into(),
                    ));
                }
                let (k, s) = window(&k, s)?;
                self.push_on_first(node, Op::MaxPool(k, s, same))?;
            }
            "AveragePool" => {
                let (k, s, p) = (node.attr_ints("kernel_shape"), node.attr_ints("strides"), node.attr_ints("pads"));
                if k.len() != 2 || p.iter().any(|&v| v != 0) || node.attr_i("ceil_mode", 0) != 0 {
                    return Err(Error::Unsupported("only 2-D average pooling without padding is supported".into()));
                }
                let (k, s) = window(&k, s)?;
                self.push_on_first(node, Op::AveragePool(k, s))?;
            }
            "GlobalAveragePool" => self.push_on_first(node, Op::GlobalAveragePool)?,
            "Resize" => {
                let scales =
                    self.const_f32(ins.get(2).ok_or_else(|| Error::Malformed("Resize without scales".into()))?)?.1;
                let f = scales.get(2).copied().unwrap_or(1.0);
                let integral =
                    scales.len() == 4 && scales[..2] == [1.0, 1.0] && scales[3] == f && f.fract() == 0.0 && f >= 1.0;
                if node.attr_s("mode") != "nearest" || !integral {
                    return Err(Error::Unsupported(format!(
                        "only nearest upsampling by an integer factor is supported (scales {scales:?})"
                    )));
                }
                self.push_on_first(node, Op::Upsample(f as usize))?;
            }
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }
}

/// A 2-D pooling window: kernel and strides (1, 1 when absent), two positive sizes each (found
/// by fuzzing: one stride given panicked with an index out of bounds).
fn window(kernel: &[i64], strides: Vec<i64>) -> Result<((usize, usize), (usize, usize))> {
    let strides = if strides.is_empty() { vec![1, 1] } else { strides };
    if kernel.len() != 2 || strides.len() != 2 || kernel.iter().chain(&strides).any(|&v| v < 1) {
        return Err(Error::Unsupported(format!(
            "pooling needs two positive kernel sizes and strides (kernel {kernel:?}, strides {strides:?})"
        )));
    }
    Ok(((kernel[0] as usize, kernel[1] as usize), (strides[0] as usize, strides[1] as usize)))
}
