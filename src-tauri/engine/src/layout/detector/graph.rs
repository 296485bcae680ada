//! A small ONNX graph runner on candle tensors, for the convolutional detectors Pagewise ships
//! (PicoDet and kin). Nodes are compiled once into steps over numbered slots: constants are
//! resolved, batch norms folded into the convolution before them, 1x1 convolutions run as one
//! matrix product and depthwise ones as a direct kernel (candle's grouped convolution runs one
//! convolution per channel). An op outside the supported set is an error naming it.

use std::collections::HashMap;

use candle_core::{CpuStorage, CustomOp2, DType, Device, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::onnx::{self, Data, NodeProto};

type Res<T> = std::result::Result<T, String>;

fn ce(e: candle_core::Error) -> String {
    e.to_string()
}

#[derive(Debug)]
enum Operand {
    Slot(usize),
    Const(Tensor),
}

#[derive(Debug, Clone, Copy)]
enum Binary {
    Add,
    Mul,
    Div,
}

#[derive(Debug)]
enum Op {
    Conv { weight: Tensor, bias: Option<Tensor>, stride: usize, pad: usize, depthwise: bool },
    Binary(Binary, Operand, Operand),
    Clip(f32, f32),
    Sigmoid,
    Relu,
    HardSigmoid(f32, f32),
    /// Batch norm that could not be folded: y = x * scale + shift per channel.
    ChannelAffine(Tensor, Tensor),
    GlobalAveragePool,
    Upsample(usize),
    Concat(usize),
    Split(usize, Vec<usize>),
    Reshape(Vec<i64>),
    Transpose(Vec<usize>),
}

#[derive(Debug)]
struct Step {
    op: Op,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
}

/// A compiled graph with one float input.
#[derive(Debug)]
pub struct Graph {
    steps: Vec<Step>,
    slots: usize,
    input: usize,
    outputs: Vec<usize>,
    /// For each step, the slots whose last reader it is (freed after it runs).
    frees: Vec<Vec<usize>>,
    pub metadata: HashMap<String, String>,
}

struct Compiler {
    consts: HashMap<String, (Vec<usize>, Data)>,
    slots: HashMap<String, usize>,
    steps: Vec<Step>,
    /// Which step produced a slot, and how many nodes read the value by name.
    producer: HashMap<usize, usize>,
    readers: HashMap<String, usize>,
}

impl Graph {
    pub fn from_onnx(bytes: &[u8]) -> Res<Graph> {
        let model = onnx::decode_model(bytes)?;
        let graph = model.graph.ok_or("the model has no graph")?;
        let mut c = Compiler { consts: HashMap::new(), slots: HashMap::new(), steps: Vec::new(), producer: HashMap::new(), readers: HashMap::new() };
        for t in &graph.initializer {
            c.consts.insert(t.name.clone(), (t.shape(), t.data()?));
        }
        for n in &graph.node {
            for i in &n.input {
                *c.readers.entry(i.clone()).or_default() += 1;
            }
        }
        let inputs: Vec<&str> = graph.input.iter().map(|v| v.name.as_str()).filter(|n| !c.consts.contains_key(*n)).collect();
        let [input] = inputs[..] else { return Err(format!("expected one input, found {}", inputs.len())) };
        let input = c.slot(input);
        for node in &graph.node {
            c.compile(node).map_err(|e| format!("node {} ({}): {e}", node.name, node.op_type))?;
        }
        let outputs = graph.output.iter().map(|o| c.slots.get(&o.name).copied().ok_or(format!("output {} is never computed", o.name))).collect::<Res<Vec<_>>>()?;
        let slots = c.slots.values().copied().max().map_or(0, |m| m + 1);
        let mut last = vec![None; slots];
        for (k, s) in c.steps.iter().enumerate() {
            let operands = s.inputs.iter().copied().chain(match &s.op {
                Op::Binary(_, a, b) => [a, b].into_iter().filter_map(|o| if let Operand::Slot(i) = o { Some(*i) } else { None }).collect(),
                _ => vec![],
            });
            for i in operands {
                last[i] = Some(k);
            }
        }
        let mut frees = vec![Vec::new(); c.steps.len()];
        for (slot, k) in last.iter().enumerate() {
            if let (Some(k), false) = (k, outputs.contains(&slot)) {
                frees[*k].push(slot);
            }
        }
        let metadata = model.metadata_props.into_iter().map(|p| (p.key, p.value)).collect();
        Ok(Graph { steps: c.steps, slots, input, outputs, frees, metadata })
    }

    /// Run the graph on `input`; the graph's outputs in order.
    pub fn run(&self, input: Tensor) -> Res<Vec<Tensor>> {
        let mut values: Vec<Option<Tensor>> = vec![None; self.slots];
        values[self.input] = Some(input);
        for (k, step) in self.steps.iter().enumerate() {
            let get = |i: usize| values[i].clone().ok_or_else(|| format!("value {i} read before it was computed"));
            let args = step.inputs.iter().map(|&i| get(i)).collect::<Res<Vec<_>>>()?;
            let operand = |o: &Operand| match o {
                Operand::Slot(i) => get(*i),
                Operand::Const(t) => Ok(t.clone()),
            };
            let results = match &step.op {
                Op::Binary(kind, a, b) => {
                    let (a, b) = (operand(a)?, operand(b)?);
                    vec![match kind {
                        Binary::Add => a.broadcast_add(&b),
                        Binary::Mul => a.broadcast_mul(&b),
                        Binary::Div => a.broadcast_div(&b),
                    }
                    .map_err(ce)?]
                }
                op => run_op(op, &args).map_err(ce)?,
            };
            for (&slot, value) in step.outputs.iter().zip(results) {
                values[slot] = Some(value);
            }
            for &slot in &self.frees[k] {
                values[slot] = None;
            }
        }
        self.outputs.iter().map(|&i| values[i].clone().ok_or_else(|| "an output was not computed".to_string())).collect()
    }
}

fn run_op(op: &Op, args: &[Tensor]) -> candle_core::Result<Vec<Tensor>> {
    let x = &args[0];
    Ok(vec![match op {
        Op::Conv { weight, bias, stride, pad, depthwise } => {
            let (out_c, _, kh, kw) = weight.dims4()?;
            let y = if *depthwise {
                x.contiguous()?.apply_op2_no_bwd(weight, &Depthwise { stride: *stride, pad: *pad })?
            } else if kh == 1 && kw == 1 && *stride == 1 && *pad == 0 {
                let (n, c, h, w) = x.dims4()?;
                let flat = x.contiguous()?.reshape((n, c, h * w))?;
                weight.reshape((1, out_c, c))?.broadcast_matmul(&flat)?.reshape((n, out_c, h, w))?
            } else {
                x.contiguous()?.conv2d(weight, *pad, *stride, 1, 1)?
            };
            match bias {
                Some(b) => y.broadcast_add(&b.reshape((1, out_c, 1, 1))?)?,
                None => y,
            }
        }
        Op::Clip(lo, hi) => x.clamp(*lo, *hi)?,
        Op::Sigmoid => (x.neg()?.exp()? + 1.0)?.recip()?,
        Op::Relu => x.relu()?,
        Op::HardSigmoid(alpha, beta) => x.affine(*alpha as f64, *beta as f64)?.clamp(0f32, 1f32)?,
        Op::ChannelAffine(scale, shift) => x.broadcast_mul(scale)?.broadcast_add(shift)?,
        Op::GlobalAveragePool => x.mean_keepdim(3)?.mean_keepdim(2)?,
        Op::Upsample(f) => {
            let (_, _, h, w) = x.dims4()?;
            x.upsample_nearest2d(h * f, w * f)?
        }
        Op::Concat(axis) => Tensor::cat(args, *axis)?,
        Op::Split(axis, sizes) => {
            let mut start = 0;
            let mut parts = Vec::new();
            for &s in sizes {
                parts.push(x.narrow(*axis, start, s)?);
                start += s;
            }
            return Ok(parts);
        }
        Op::Reshape(spec) => {
            let dims = x.dims();
            let known: usize = spec.iter().enumerate().map(|(i, &d)| if d == 0 { dims[i] } else if d < 0 { 1 } else { d as usize }).product();
            let shape: Vec<usize> =
                spec.iter().enumerate().map(|(i, &d)| if d == 0 { dims[i] } else if d < 0 { x.elem_count() / known.max(1) } else { d as usize }).collect();
            x.contiguous()?.reshape(shape)?
        }
        Op::Transpose(perm) => x.permute(perm.clone())?.contiguous()?,
        Op::Binary(..) => unreachable!("binary ops are run by the caller"),
    }])
}

impl Compiler {
    fn slot(&mut self, name: &str) -> usize {
        let next = self.slots.len();
        *self.slots.entry(name.to_string()).or_insert(next)
    }

    fn input_slot(&self, name: &str) -> Res<usize> {
        self.slots.get(name).copied().ok_or_else(|| format!("input {name} is not computed before it is read"))
    }

    fn const_f32(&self, name: &str) -> Res<(Vec<usize>, Vec<f32>)> {
        match self.consts.get(name) {
            Some((shape, Data::Float(v))) => Ok((shape.clone(), v.clone())),
            Some((shape, Data::Int(v))) => Ok((shape.clone(), v.iter().map(|&x| x as f32).collect())),
            None => Err(format!("{name} must be a constant")),
        }
    }

    fn const_ints(&self, name: &str) -> Res<Vec<i64>> {
        match self.consts.get(name) {
            Some((_, Data::Int(v))) => Ok(v.clone()),
            Some((_, Data::Float(v))) => Ok(v.iter().map(|&x| x as i64).collect()),
            None => Err(format!("{name} must be a constant")),
        }
    }

    fn tensor(&self, name: &str) -> Res<Tensor> {
        let (shape, v) = self.const_f32(name)?;
        Tensor::from_vec(v, shape, &Device::Cpu).map_err(ce)
    }

    fn operand(&self, name: &str) -> Res<Operand> {
        if self.consts.contains_key(name) {
            Ok(Operand::Const(self.tensor(name)?))
        } else {
            Ok(Operand::Slot(self.input_slot(name)?))
        }
    }

    fn push(&mut self, node: &NodeProto, op: Op, inputs: Vec<usize>) {
        let outputs: Vec<usize> = node.output.iter().map(|o| self.slot(o)).collect();
        for &o in &outputs {
            self.producer.insert(o, self.steps.len());
        }
        self.steps.push(Step { op, inputs, outputs });
    }

    fn compile(&mut self, node: &NodeProto) -> Res<()> {
        let ins = &node.input;
        let first = || self.input_slot(&ins[0]);
        match node.op_type.as_str() {
            "Constant" => {
                let t = node.attr("value").and_then(|a| a.t.as_ref()).ok_or("Constant without a tensor value")?;
                self.consts.insert(node.output[0].clone(), (t.shape(), t.data()?));
            }
            "Conv" => {
                let weight = self.tensor(&ins[1])?;
                let (out_c, in_per_group, _, _) = weight.dims4().map_err(ce)?;
                let group = node.attr_i("group", 1) as usize;
                let strides = node.attr_ints("strides");
                let pads = node.attr_ints("pads");
                let dil = node.attr_ints("dilations");
                let stride = *strides.first().unwrap_or(&1) as usize;
                let pad = *pads.first().unwrap_or(&0) as usize;
                if strides.iter().any(|&s| s as usize != stride) || pads.iter().any(|&p| p as usize != pad) || dil.iter().any(|&d| d != 1) {
                    return Err("only square strides and symmetric pads without dilation are supported".into());
                }
                let depthwise = group > 1 && group == out_c && in_per_group == 1;
                if group > 1 && !depthwise {
                    return Err(format!("grouped convolution with {group} groups is not supported"));
                }
                let bias = if ins.len() > 2 && !ins[2].is_empty() { Some(self.tensor(&ins[2])?) } else { None };
                let x = first()?;
                self.push(node, Op::Conv { weight, bias, stride, pad, depthwise }, vec![x]);
            }
            "BatchNormalization" => {
                let eps = node.attr_f("epsilon", 1e-5);
                let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| self.const_f32(&ins[i]).map(|c| c.1));
                let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
                let scale: Vec<f32> = gamma.iter().zip(&var).map(|(g, v)| g / (v + eps).sqrt()).collect();
                let shift: Vec<f32> = beta.iter().zip(&mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
                let x = first()?;
                let only_reader = self.readers.get(&ins[0]) == Some(&1);
                if let (true, Some(&k)) = (only_reader, self.producer.get(&x)) {
                    if let Op::Conv { weight, bias, .. } = &mut self.steps[k].op {
                        fold_affine(weight, bias, &scale, &shift).map_err(ce)?;
                        self.slots.insert(node.output[0].clone(), x);
                        return Ok(());
                    }
                }
                let n = scale.len();
                let scale = Tensor::from_vec(scale, (1, n, 1, 1), &Device::Cpu).map_err(ce)?;
                let shift = Tensor::from_vec(shift, (1, n, 1, 1), &Device::Cpu).map_err(ce)?;
                self.push(node, Op::ChannelAffine(scale, shift), vec![x]);
            }
            "Add" | "Mul" | "Div" => {
                let kind = match node.op_type.as_str() {
                    "Add" => Binary::Add,
                    "Mul" => Binary::Mul,
                    _ => Binary::Div,
                };
                let (a, b) = (self.operand(&ins[0])?, self.operand(&ins[1])?);
                self.push(node, Op::Binary(kind, a, b), vec![]);
            }
            "Clip" => {
                let bound = |i: usize, default: f32| -> Res<f32> {
                    match ins.get(i).filter(|n| !n.is_empty()) {
                        Some(n) => self.const_f32(n).map(|c| c.1.first().copied().unwrap_or(default)),
                        None => Ok(node.attr(if i == 1 { "min" } else { "max" }).map_or(default, |a| a.f)),
                    }
                };
                let op = Op::Clip(bound(1, f32::NEG_INFINITY)?, bound(2, f32::INFINITY)?);
                self.push(node, op, vec![first()?]);
            }
            "Sigmoid" => self.push(node, Op::Sigmoid, vec![first()?]),
            "Relu" => self.push(node, Op::Relu, vec![first()?]),
            "HardSigmoid" => {
                let op = Op::HardSigmoid(node.attr_f("alpha", 0.2), node.attr_f("beta", 0.5));
                self.push(node, op, vec![first()?]);
            }
            "GlobalAveragePool" => self.push(node, Op::GlobalAveragePool, vec![first()?]),
            "Resize" => {
                let scales = self.const_f32(ins.get(2).ok_or("Resize without scales")?)?.1;
                let f = scales.get(2).copied().unwrap_or(1.0);
                let integral = scales.len() == 4 && scales[..2] == [1.0, 1.0] && scales[3] == f && f.fract() == 0.0 && f >= 1.0;
                if node.attr_s("mode") != "nearest" || !integral {
                    return Err(format!("only nearest upsampling by an integer factor is supported (scales {scales:?})"));
                }
                self.push(node, Op::Upsample(f as usize), vec![first()?]);
            }
            "Concat" => {
                let axis = node.attr_i("axis", 0) as usize;
                let inputs = ins.iter().map(|i| self.input_slot(i)).collect::<Res<Vec<_>>>()?;
                self.push(node, Op::Concat(axis), inputs);
            }
            "Split" => {
                let axis = node.attr_i("axis", 0) as usize;
                let sizes = match ins.get(1) {
                    Some(n) => self.const_ints(n)?,
                    None => node.attr_ints("split"),
                };
                if sizes.len() != node.output.len() {
                    return Err("Split needs explicit sizes for every output".into());
                }
                self.push(node, Op::Split(axis, sizes.iter().map(|&s| s as usize).collect()), vec![first()?]);
            }
            "Reshape" => {
                let spec = self.const_ints(&ins[1])?;
                self.push(node, Op::Reshape(spec), vec![first()?]);
            }
            "Transpose" => {
                let perm = node.attr_ints("perm").iter().map(|&p| p as usize).collect();
                self.push(node, Op::Transpose(perm), vec![first()?]);
            }
            other => return Err(format!("operator {other} is not supported")),
        }
        Ok(())
    }
}

/// Fold y = conv(x) * scale + shift (per output channel) into the convolution's weights.
fn fold_affine(weight: &mut Tensor, bias: &mut Option<Tensor>, scale: &[f32], shift: &[f32]) -> candle_core::Result<()> {
    let n = scale.len();
    let s = Tensor::from_slice(scale, (n, 1, 1, 1), &Device::Cpu)?;
    *weight = weight.broadcast_mul(&s)?;
    let b = match bias.take() {
        Some(b) => b.to_vec1::<f32>()?,
        None => vec![0.0; n],
    };
    let folded: Vec<f32> = b.iter().zip(scale).zip(shift).map(|((b, s), t)| b * s + t).collect();
    *bias = Some(Tensor::from_vec(folded, n, &Device::Cpu)?);
    Ok(())
}

/// Depthwise 2-D convolution (one k x k filter per channel, batch 1..n) as a direct kernel.
struct Depthwise {
    stride: usize,
    pad: usize,
}

impl CustomOp2 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise-conv2d"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(w)) = (xs, ws) else { candle_core::bail!("depthwise conv needs f32 tensors") };
        let (Some((xa, xb)), Some((wa, wb))) = (xl.contiguous_offsets(), wl.contiguous_offsets()) else {
            candle_core::bail!("depthwise conv needs contiguous tensors")
        };
        let (x, w) = (&x[xa..xb], &w[wa..wb]);
        let (n, c, h, wd) = xl.shape().dims4()?;
        let (_, _, kh, kw) = wl.shape().dims4()?;
        let (s, p) = (self.stride, self.pad as isize);
        let ho = (h + 2 * self.pad).saturating_sub(kh) / s + 1;
        let wo = (wd + 2 * self.pad).saturating_sub(kw) / s + 1;
        let mut out = vec![0f32; n * c * ho * wo];
        out.par_chunks_mut(ho * wo).enumerate().for_each(|(nc, o)| {
            let ch = nc % c;
            let plane = &x[nc * h * wd..(nc + 1) * h * wd];
            let filter = &w[ch * kh * kw..(ch + 1) * kh * kw];
            for oy in 0..ho {
                let row = &mut o[oy * wo..(oy + 1) * wo];
                for ky in 0..kh {
                    let iy = (oy * s + ky) as isize - p;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &plane[iy as usize * wd..(iy as usize + 1) * wd];
                    for kx in 0..kw {
                        let k = filter[ky * kw + kx];
                        // Output columns whose input column ox*s + kx - p lies inside the row.
                        let lo = ((p - kx as isize).max(0) as usize).div_ceil(s);
                        let hi = ((wd as isize + p - kx as isize - 1) / s as isize + 1).clamp(0, wo as isize) as usize;
                        for ox in lo..hi {
                            row[ox] += k * src[ox * s + kx - p as usize];
                        }
                    }
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// An NCHW float tensor on the CPU.
pub fn nchw(data: Vec<f32>, c: usize, h: usize, w: usize) -> Res<Tensor> {
    Tensor::from_vec(data, (1, c, h, w), &Device::Cpu).map_err(ce)?.to_dtype(DType::F32).map_err(ce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depthwise_matches_candle_grouped_conv() {
        for (stride, pad, k) in [(1, 2, 5), (2, 2, 5), (1, 1, 3), (2, 1, 3)] {
            let (c, h, w) = (3, 9, 7);
            let x = Tensor::arange(0f32, (c * h * w) as f32, &Device::Cpu).unwrap().reshape((1, c, h, w)).unwrap().affine(0.01, -0.3).unwrap();
            let wt = Tensor::arange(0f32, (c * k * k) as f32, &Device::Cpu).unwrap().reshape((c, 1, k, k)).unwrap().affine(0.05, -0.5).unwrap();
            let ours = x.apply_op2_no_bwd(&wt, &Depthwise { stride, pad }).unwrap();
            let reference = x.conv2d(&wt, pad, stride, 1, c).unwrap();
            assert_eq!(ours.dims(), reference.dims());
            let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "stride {stride} pad {pad} k {k}: diff {diff}");
        }
    }
}
