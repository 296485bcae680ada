//! A small ONNX graph runner on candle tensors, for the convolutional detectors Pagewise ships
//! (PicoDet and kin). Nodes are compiled once into steps over numbered slots: constants are
//! resolved, batch norms folded into the convolution before them, 1x1 convolutions run as one
//! matrix product and depthwise ones as a direct kernel (candle's grouped convolution runs one
//! convolution per channel). An op outside the supported set is an error naming it.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use super::conv::Window;
use super::epilogue::Act;
use super::error::{Error, Result};
use super::fuse::fuse_activations;
use super::onnx::{self, Data, NodeProto};
use super::ops::{axes_of, binary, reshape_target, run_op, Binary, Op, Operand, Step};
use super::product::{Linear, WeightMatrix};
use super::transpose::TiledTranspose;

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
    pub fn from_onnx(bytes: &[u8]) -> Result<Graph> {
        let model = onnx::decode_model(bytes)?;
        let graph = model.graph.ok_or_else(|| Error::Malformed("the model has no graph".into()))?;
        let mut c = Compiler {
            consts: HashMap::new(),
            slots: HashMap::new(),
            steps: Vec::new(),
            producer: HashMap::new(),
            readers: HashMap::new(),
        };
        for t in &graph.initializer {
            c.consts.insert(t.name.clone(), (t.shape(), t.data()?));
        }
        for n in &graph.node {
            for i in &n.input {
                *c.readers.entry(i.clone()).or_default() += 1;
            }
        }
        let inputs: Vec<&str> =
            graph.input.iter().map(|v| v.name.as_str()).filter(|n| !c.consts.contains_key(*n)).collect();
        let [input] = inputs[..] else {
            return Err(Error::Unsupported(format!("expected one input, found {}", inputs.len())));
        };
        let input = c.slot(input);
        for node in &graph.node {
            c.compile(node).map_err(|e| Error::Node {
                node: node.name.clone(),
                op: node.op_type.clone(),
                source: Box::new(e),
            })?;
        }
        let outputs = graph
            .output
            .iter()
            .map(|o| {
                c.slots
                    .get(&o.name)
                    .copied()
                    .ok_or_else(|| Error::Malformed(format!("output {} is never computed", o.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        fuse_activations(&mut c.steps, &outputs);
        c.steps.retain(|s| !matches!(s.op, Op::Fused));
        // Weights are final now (batch norms and biases folded in): lay them out for the product.
        for step in &mut c.steps {
            if let Op::Conv { weight, depthwise: false, matrix, .. } = &mut step.op {
                let rows = weight.dim(0)?;
                let data: Vec<f32> = weight.flatten_all().and_then(|w| w.to_vec1())?;
                *matrix = Some(WeightMatrix::new(data, rows, weight.elem_count() / rows.max(1)));
            }
        }
        let slots = c.slots.values().copied().max().map_or(0, |m| m + 1);
        let frees = frees(&c.steps, &outputs, slots);
        let metadata = model.metadata_props.into_iter().map(|p| (p.key, p.value)).collect();
        Ok(Graph { steps: c.steps, slots, input, outputs, frees, metadata })
    }

    /// Make the graph end before a softmax over the last axis (of an output of `rank` axes)
    /// that computes its output: the output becomes the scores the softmax would have
    /// normalised. For a reader that needs only each row's best class and can normalise that
    /// one score itself (for the text recogniser's 18,710 classes, the softmax and the copy of
    /// its output cost more than the product before it). Whether there was one.
    pub fn drop_final_softmax(&mut self, rank: usize) -> bool {
        let Some((k, slot)) = self.steps.iter().enumerate().find_map(|(k, s)| match (&s.op, &s.outputs[..]) {
            (Op::Softmax(axis), [out]) if axes_of(&[*axis], rank) == [rank - 1] && self.outputs.contains(out) => {
                Some((k, *out))
            }
            _ => None,
        }) else {
            return false;
        };
        let scores = self.steps[k].inputs[0];
        self.steps.remove(k);
        self.outputs.iter_mut().filter(|o| **o == slot).for_each(|o| *o = scores);
        self.frees = frees(&self.steps, &self.outputs, self.slots);
        true
    }

    /// Run the graph on `input`; the graph's outputs in order.
    pub fn run(&self, input: Tensor) -> Result<Vec<Tensor>> {
        super::tuning::flush_denormals();
        super::tuning::keep_freed_memory();
        let mut values: Vec<Option<Tensor>> = vec![None; self.slots];
        values[self.input] = Some(input);
        let profile = std::env::var_os("PAGEWISE_PROFILE_GRAPH").is_some();
        let by_shape = std::env::var("PAGEWISE_PROFILE_GRAPH").is_ok_and(|v| v == "shapes");
        let (mut spent, mut flops): (HashMap<String, f64>, HashMap<String, f64>) = Default::default();
        for (k, step) in self.steps.iter().enumerate() {
            let started = std::time::Instant::now();
            let get = |i: usize| values[i].clone().ok_or(Error::NotComputed(i));
            let args = step.inputs.iter().map(|&i| get(i)).collect::<Result<Vec<_>>>()?;
            let operand = |o: &Operand| match o {
                Operand::Slot(i) => get(*i),
                Operand::Const(t) => Ok(t.clone()),
            };
            let results = match &step.op {
                Op::Binary(kind, a, b) => {
                    let (a, b) = (operand(a)?, operand(b)?);
                    vec![binary(*kind, &a, &b)?]
                }
                op => run_op(op, &args)?,
            };
            // The profile's key: the operator, and with PAGEWISE_PROFILE_GRAPH=shapes its input and output shapes.
            let key = match (profile, by_shape, results.first()) {
                (true, true, Some(y)) => format!(
                    "{} {:?}->{:?}",
                    op_name(&step.op),
                    args.first().map(|x| x.dims()).unwrap_or_default(),
                    y.dims()
                ),
                (true, ..) => op_name(&step.op),
                (false, ..) => String::new(),
            };
            if profile {
                // Multiply-adds of a convolution: output elements x input channels per group x kernel.
                if let (Op::Conv { weight, .. }, Some(y)) = (&step.op, results.first()) {
                    let d = weight.dims();
                    *flops.entry(key.clone()).or_default() += 2.0 * (y.elem_count() * d[1] * d[2] * d[3]) as f64;
                }
            }
            for (&slot, value) in step.outputs.iter().zip(results) {
                values[slot] = Some(value);
            }
            for &slot in &self.frees[k] {
                values[slot] = None;
            }
            if profile {
                *spent.entry(key).or_default() += started.elapsed().as_secs_f64() * 1000.0;
            }
        }
        if profile {
            let mut v: Vec<_> = spent.into_iter().collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            let line: Vec<String> = v
                .iter()
                .map(|(name, ms)| match flops.get(name) {
                    Some(f) => format!("{name} {ms:.1} ({:.1} GFLOP/s)", f / ms / 1e6),
                    None => format!("{name} {ms:.1}"),
                })
                .collect();
            eprintln!(
                "graph time per op (ms, {:.1} in all): {}",
                v.iter().map(|(_, ms)| ms).sum::<f64>(),
                line.join(", ")
            );
        }
        self.outputs.iter().map(|&i| values[i].clone().ok_or(Error::NotComputed(i))).collect()
    }
}

/// For each step, the slots whose last reader it is (freed once it has run); never an output.
fn frees(steps: &[Step], outputs: &[usize], slots: usize) -> Vec<Vec<usize>> {
    let mut last = vec![None; slots];
    for (k, s) in steps.iter().enumerate() {
        for i in s.reads() {
            last[i] = Some(k);
        }
    }
    let mut frees = vec![Vec::new(); steps.len()];
    for (slot, k) in last.iter().enumerate() {
        if let (Some(k), false) = (k, outputs.contains(&slot)) {
            frees[*k].push(slot);
        }
    }
    frees
}

/// An operator's name for profiles; convolutions by kernel size and kind.
fn op_name(op: &Op) -> String {
    match op {
        Op::Conv { weight, depthwise, .. } => {
            format!("Conv{}x{}{}", weight.dims()[2], weight.dims()[3], if *depthwise { "dw" } else { "" })
        }
        Op::Binary(kind, _, _) => format!("{kind:?}"),
        _ => format!("{op:?}").split(['(', ' ', '{']).next().unwrap_or_default().to_string(),
    }
}

impl Compiler {
    fn slot(&mut self, name: &str) -> usize {
        let next = self.slots.len();
        *self.slots.entry(name.to_string()).or_insert(next)
    }

    fn input_slot(&self, name: &str) -> Result<usize> {
        self.slots
            .get(name)
            .copied()
            .ok_or_else(|| Error::Malformed(format!("input {name} is not computed before it is read")))
    }

    fn const_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        match self.consts.get(name) {
            Some((shape, Data::Float(v))) => Ok((shape.clone(), v.clone())),
            Some((shape, Data::Int(v))) => Ok((shape.clone(), v.iter().map(|&x| x as f32).collect())),
            None => Err(Error::NotConstant(name.into())),
        }
    }

    fn const_ints(&self, name: &str) -> Result<Vec<i64>> {
        match self.consts.get(name) {
            Some((_, Data::Int(v))) => Ok(v.clone()),
            Some((_, Data::Float(v))) => Ok(v.iter().map(|&x| x as i64).collect()),
            None => Err(Error::NotConstant(name.into())),
        }
    }

    fn tensor(&self, name: &str) -> Result<Tensor> {
        let (shape, v) = self.const_f32(name)?;
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
    }

    /// A slot holding `name`'s value: a computed value, or a constant emitted as a value
    /// (integer constants as i64, so shape arithmetic stays in integers).
    fn value_slot(&mut self, name: &str) -> Result<usize> {
        let Some((shape, data)) = self.consts.get(name).cloned() else { return self.input_slot(name) };
        let t = match data {
            Data::Float(v) => Tensor::from_vec(v, shape, &Device::Cpu),
            Data::Int(v) => Tensor::from_vec(v, shape, &Device::Cpu),
        }?;
        let slot = self.slot(&format!("const:{name}"));
        self.steps.push(Step { op: Op::Const(t), inputs: vec![], outputs: vec![slot] });
        Ok(slot)
    }

    fn operand(&self, name: &str) -> Result<Operand> {
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

    fn compile(&mut self, node: &NodeProto) -> Result<()> {
        let ins = &node.input;
        let first = || self.input_slot(&ins[0]);
        match node.op_type.as_str() {
            "Constant" => {
                let t = node
                    .attr("value")
                    .and_then(|a| a.t.as_ref())
                    .ok_or_else(|| Error::Malformed("Constant without a tensor value".into()))?;
                self.consts.insert(node.output[0].clone(), (t.shape(), t.data()?));
            }
            "Conv" => {
                let weight = self.tensor(&ins[1])?;
                let (out_c, in_per_group, _, _) = weight.dims4()?;
                let group = node.attr_i("group", 1) as usize;
                let (strides, pads) = (node.attr_ints("strides"), node.attr_ints("pads"));
                let (sy, sx) = (*strides.first().unwrap_or(&1) as usize, *strides.get(1).unwrap_or(&1) as usize);
                let (kh, kw) = (weight.dims()[2], weight.dims()[3]);
                let x = first()?;
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
                self.push(node, op, vec![first()?]);
            }
            "Sigmoid" => self.push(node, Op::Sigmoid, vec![first()?]),
            "Relu" => self.push(node, Op::Relu, vec![first()?]),
            "Identity" => {
                // The output is the input's value under another name.
                let x = first()?;
                self.slots.insert(node.output[0].clone(), x);
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
                self.push(node, Op::ConvTranspose { weight, bias, stride: s, pad: p, tiled }, vec![first()?]);
            }
            "HardSigmoid" => {
                let op = Op::HardSigmoid(node.attr_f("alpha", 0.2), node.attr_f("beta", 0.5));
                self.push(node, op, vec![first()?]);
            }
            "GlobalAveragePool" => self.push(node, Op::GlobalAveragePool, vec![first()?]),
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
                self.push(node, Op::Upsample(f as usize), vec![first()?]);
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
                self.push(node, Op::Split(axis, sizes.iter().map(|&s| s as usize).collect()), vec![first()?]);
            }
            "Reshape" if self.consts.contains_key(&ins[0]) => {
                // A constant reshaped (a bias made 1 x C x 1 x 1) stays a constant.
                let (shape, data) = self.consts[&ins[0]].clone();
                let target = reshape_target(&shape, &self.const_ints(&ins[1])?);
                self.consts.insert(node.output[0].clone(), (target, data));
            }
            "Reshape" if self.consts.contains_key(&ins[1]) => {
                let spec = self.const_ints(&ins[1])?;
                self.push(node, Op::Reshape(spec), vec![first()?]);
            }
            "Reshape" => {
                let inputs = vec![first()?, self.input_slot(&ins[1])?];
                self.push(node, Op::ReshapeDyn, inputs);
            }
            "Shape" => self.push(node, Op::Shape, vec![first()?]),
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
                self.push(node, Op::Slice(ranges), vec![first()?]);
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
            "Softmax" => self.push(node, Op::Softmax(node.attr_i("axis", -1)), vec![first()?]),
            "HardSwish" => self.push(node, Op::HardSwish, vec![first()?]),
            "ReduceMean" => {
                let axes = match ins.get(1).filter(|n| !n.is_empty()) {
                    Some(n) => self.const_ints(n)?,
                    None => node.attr_ints("axes"),
                };
                if axes.is_empty() {
                    return Err(Error::Unsupported("ReduceMean over all axes is not supported".into()));
                }
                self.push(node, Op::ReduceMean(axes, node.attr_i("keepdims", 1) != 0), vec![first()?]);
            }
            "Pow" => {
                let e =
                    self.const_f32(ins.get(1).ok_or_else(|| Error::Malformed("Pow without an exponent".into()))?)?.1;
                let [e] = e[..] else {
                    return Err(Error::Unsupported("only a scalar constant exponent is supported".into()));
                };
                self.push(node, Op::Pow(e), vec![first()?]);
            }
            "Sqrt" => self.push(node, Op::Sqrt, vec![first()?]),
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
                    self.push(node, Op::Squeeze(axes, insert), vec![first()?]);
                }
            }
            "AveragePool" => {
                let (k, s, p) = (node.attr_ints("kernel_shape"), node.attr_ints("strides"), node.attr_ints("pads"));
                if k.len() != 2 || p.iter().any(|&v| v != 0) || node.attr_i("ceil_mode", 0) != 0 {
                    return Err(Error::Unsupported("only 2-D average pooling without padding is supported".into()));
                }
                let s = if s.is_empty() { vec![1, 1] } else { s };
                self.push(
                    node,
                    Op::AveragePool((k[0] as usize, k[1] as usize), (s[0] as usize, s[1] as usize)),
                    vec![first()?],
                );
            }
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
                let s = if s.is_empty() { vec![1, 1] } else { s };
                self.push(
                    node,
                    Op::MaxPool((k[0] as usize, k[1] as usize), (s[0] as usize, s[1] as usize), same),
                    vec![first()?],
                );
            }
            "Erf" => self.push(node, Op::Erf, vec![first()?]),
            "Transpose" => {
                let perm = node.attr_ints("perm").iter().map(|&p| p as usize).collect();
                self.push(node, Op::Transpose(perm), vec![first()?]);
            }
            other => return Err(Error::UnsupportedOperator(other.into())),
        }
        Ok(())
    }
}

impl Compiler {
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

/// An NCHW float tensor on the CPU.
pub fn nchw(data: Vec<f32>, c: usize, h: usize, w: usize) -> Result<Tensor> {
    nchw_batch(data, 1, c, h, w)
}

/// `n` images of `c` planes of `h` x `w`, one after another.
pub fn nchw_batch(data: Vec<f32>, n: usize, c: usize, h: usize, w: usize) -> Result<Tensor> {
    if data.len() != n * c * h * w {
        return Err(Error::ShapeMismatch { len: data.len(), shape: vec![n, c, h, w] });
    }
    Ok(Tensor::from_vec(data, (n, c, h, w), &Device::Cpu)?.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use super::onnx::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};
    use super::*;
    use prost::Message;

    fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            op_type: op.into(),
            attribute,
        }
    }

    /// A float initializer.
    fn init(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
        TensorProto {
            dims: dims.to_vec(),
            data_type: 1,
            float_data: v.to_vec(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn ints(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto { name: name.into(), ints: v.to_vec(), ..Default::default() }
    }

    #[test]
    fn shape_arithmetic_layer_norm_and_softmax_as_a_recogniser_uses_them() {
        let int = |name: &str, v: &[i64]| TensorProto {
            dims: vec![v.len() as i64],
            data_type: 7,
            int64_data: v.to_vec(),
            name: name.into(),
            ..Default::default()
        };
        let two = init("two", &[], &[2.0]);
        let graph = GraphProto {
            node: vec![
                node("Shape", &["x"], "s", vec![]),
                node("Slice", &["s", "zero", "one", "zero"], "s0", vec![]),
                node(
                    "Concat",
                    &["s0", "minus_one"],
                    "spec",
                    vec![AttributeProto { name: "axis".into(), i: 0, ..Default::default() }],
                ),
                node("Reshape", &["x", "spec"], "r", vec![]),
                node("ReduceMean", &["r"], "m", vec![ints("axes", &[-1])]),
                node("Sub", &["r", "m"], "d", vec![]),
                node("Pow", &["d", "two"], "p", vec![]),
                node("ReduceMean", &["p"], "v", vec![ints("axes", &[-1])]),
                node("Sqrt", &["v"], "sd", vec![]),
                node("Div", &["d", "sd"], "n", vec![]),
                node("Unsqueeze", &["n"], "u", vec![ints("axes", &[0])]),
                node("Squeeze", &["u"], "q", vec![ints("axes", &[0])]),
                node("Softmax", &["q"], "y", vec![AttributeProto { name: "axis".into(), i: -1, ..Default::default() }]),
            ],
            initializer: vec![int("zero", &[0]), int("one", &[1]), int("minus_one", &[-1]), two],
            input: vec![ValueInfoProto { name: "x".into() }],
            output: vec![ValueInfoProto { name: "y".into() }],
        };
        let g = Graph::from_onnx(&ModelProto { graph: Some(graph), metadata_props: vec![] }.encode_to_vec()).unwrap();
        let x = Tensor::arange(0f32, 24.0, &Device::Cpu).unwrap().sqr().unwrap().reshape((1, 2, 3, 4)).unwrap();
        let ours = g.run(x.clone()).unwrap().remove(0);
        assert_eq!(ours.dims(), &[1, 24]);
        let r = x.reshape((1, 24)).unwrap();
        let d = r.broadcast_sub(&r.mean_keepdim(1).unwrap()).unwrap();
        let n = d.broadcast_div(&d.sqr().unwrap().mean_keepdim(1).unwrap().sqrt().unwrap()).unwrap();
        let e = n.broadcast_sub(&n.max_keepdim(1).unwrap()).unwrap().exp().unwrap();
        let reference = e.broadcast_div(&e.sum_keepdim(1).unwrap()).unwrap();
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn errors_say_what_failed() {
        assert!(matches!(Graph::from_onnx(b"not a model"), Err(Error::Decode(_))));
        let graph = GraphProto {
            node: vec![node("Frobnicate", &["x"], "y", vec![])],
            initializer: vec![],
            input: vec![ValueInfoProto { name: "x".into() }],
            output: vec![ValueInfoProto { name: "y".into() }],
        };
        let bytes = ModelProto { graph: Some(graph), metadata_props: vec![] }.encode_to_vec();
        let e = Graph::from_onnx(&bytes).unwrap_err();
        assert!(
            matches!(&e, Error::Node { node, op, source }
                if node == "y" && op == "Frobnicate" && matches!(**source, Error::UnsupportedOperator(_))),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "node y (Frobnicate): operator Frobnicate is not supported");
        assert!(matches!(nchw(vec![0.0; 5], 1, 2, 3), Err(Error::ShapeMismatch { len: 5, .. })));
    }

    #[test]
    fn identity_then_transposed_convolution_match_candle() {
        let (w, b): (Vec<f32>, Vec<f32>) =
            ((0..2 * 3 * 2 * 2).map(|i| i as f32 * 0.1 - 1.0).collect(), vec![0.5, -0.25, 1.0]);
        let attrs = vec![ints("strides", &[2, 2]), ints("pads", &[0, 0, 0, 0]), ints("kernel_shape", &[2, 2])];
        let graph = GraphProto {
            node: vec![node("Identity", &["x"], "y", vec![]), node("ConvTranspose", &["y", "w", "b"], "z", attrs)],
            initializer: vec![init("w", &[2, 3, 2, 2], &w), init("b", &[3], &b)],
            input: vec![ValueInfoProto { name: "x".into() }],
            output: vec![ValueInfoProto { name: "z".into() }],
        };
        let bytes = ModelProto { graph: Some(graph), metadata_props: vec![] }.encode_to_vec();
        let g = Graph::from_onnx(&bytes).unwrap();
        let x = Tensor::arange(0f32, 2.0 * 3.0 * 4.0, &Device::Cpu).unwrap().reshape((1, 2, 3, 4)).unwrap();
        let ours = g.run(x.clone()).unwrap().remove(0);
        let wt = Tensor::from_vec(w, (2, 3, 2, 2), &Device::Cpu).unwrap();
        let bias = Tensor::from_vec(b, (1, 3, 1, 1), &Device::Cpu).unwrap();
        let reference = x.conv_transpose2d(&wt, 0, 0, 2, 1).unwrap().broadcast_add(&bias).unwrap();
        assert_eq!(ours.dims(), &[1, 3, 6, 8]);
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn bias_add_and_gelu_fold_into_the_convolution() {
        // Conv without bias -> Add per-channel bias -> GELU as exported (five nodes): one step.
        let w: Vec<f32> = (0..3 * 2 * 3 * 3).map(|i| (i as f32 * 0.37).sin() * 0.5).collect();
        let b = vec![0.3f32, -0.2, 0.1];
        let attrs = vec![ints("strides", &[1, 1]), ints("pads", &[1, 1, 1, 1]), ints("kernel_shape", &[3, 3])];
        let graph = GraphProto {
            node: vec![
                node("Conv", &["x", "w"], "c", attrs),
                node("Add", &["c", "b"], "a", vec![]),
                node("Div", &["a", "sqrt2"], "d", vec![]),
                node("Erf", &["d"], "e", vec![]),
                node("Add", &["e", "one"], "e1", vec![]),
                node("Mul", &["a", "e1"], "m", vec![]),
                node("Mul", &["m", "half"], "y", vec![]),
            ],
            initializer: vec![
                init("w", &[3, 2, 3, 3], &w),
                init("b", &[1, 3, 1, 1], &b),
                init("sqrt2", &[], &[std::f32::consts::SQRT_2]),
                init("one", &[], &[1.0]),
                init("half", &[], &[0.5]),
            ],
            input: vec![ValueInfoProto { name: "x".into() }],
            output: vec![ValueInfoProto { name: "y".into() }],
        };
        let g = Graph::from_onnx(&ModelProto { graph: Some(graph), metadata_props: vec![] }.encode_to_vec()).unwrap();
        assert_eq!(g.steps.len(), 1, "{:?}", g.steps);
        assert!(matches!(g.steps[0].op, Op::Conv { act: Act::Gelu, bias: Some(_), .. }), "{:?}", g.steps[0].op);
        let x = Tensor::arange(0f32, 2.0 * 5.0 * 6.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 2, 5, 6))
            .unwrap()
            .affine(0.05, -1.2)
            .unwrap();
        let ours = g.run(x.clone()).unwrap().remove(0);
        let a = x
            .conv2d(&Tensor::from_vec(w, (3, 2, 3, 3), &Device::Cpu).unwrap(), 1, 1, 1, 1)
            .unwrap()
            .broadcast_add(&Tensor::from_vec(b, (1, 3, 1, 1), &Device::Cpu).unwrap())
            .unwrap();
        let reference = ((a.clone() * 0.5).unwrap()
            * ((a / std::f64::consts::SQRT_2).unwrap().erf().unwrap() + 1.0).unwrap())
        .unwrap();
        let diff = (ours - reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
    }
}
