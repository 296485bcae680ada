//! A small ONNX graph runner on candle tensors, for the convolutional detectors Pagewise ships
//! (PicoDet and kin). Nodes are compiled once into steps over numbered slots: constants are
//! resolved, batch norms folded into the convolution before them, 1x1 convolutions run as one
//! matrix product and depthwise ones as a direct kernel (candle's grouped convolution runs one
//! convolution per channel). An op outside the supported set is an error naming it.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use super::compile::Compiler;
use super::error::{Error, Result};
use super::fuse::fuse_activations;
use super::onnx::{self, NodeProto};
use super::ops::{axes_of, binary, run_op, Op, Operand, Step};
use super::product::WeightMatrix;
use super::tuning::FlushDenormals;

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

impl Graph {
    pub fn from_onnx(bytes: &[u8]) -> Result<Graph> {
        let model = onnx::decode_model(bytes)?;
        let graph = model.graph.ok_or_else(|| Error::Malformed("the model has no graph".into()))?;
        let mut c = Compiler::new(&graph)?;
        let inputs: Vec<&str> =
            graph.input.iter().map(|v| v.name.as_str()).filter(|n| !c.consts.contains_key(*n)).collect();
        let [input] = inputs[..] else {
            return Err(Error::Unsupported(format!("expected one input, found {}", inputs.len())));
        };
        let input = c.slot(input);
        for node in &graph.node {
            compile(&mut c, node).map_err(|e| Error::Node {
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
        // Subnormals flushed on this thread while the graph runs, whether or not the front end
        // tuned it at start-up (see FlushDenormals); the flags it had come back on return.
        let _flush = FlushDenormals::on_this_thread();
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

/// How many inputs an operator reads by position (optional ones after these are looked up as
/// optional where they are read).
fn required_inputs(op: &str) -> usize {
    match op {
        "Constant" => 0,
        "BatchNormalization" => 5,
        "Conv" | "ConvTranspose" | "MatMul" | "Add" | "Mul" | "Div" | "Sub" | "Reshape" => 2,
        _ => 1,
    }
}

/// Compile one node: each family of operators in its own file under `compile/`. A node with
/// fewer inputs than its operator reads, or no output, is malformed (found by fuzzing: it was
/// an index out of bounds).
fn compile(c: &mut Compiler, node: &NodeProto) -> Result<()> {
    let needed = required_inputs(&node.op_type);
    if node.input.len() < needed || node.output.is_empty() {
        return Err(Error::Malformed(format!(
            "{} reads {needed} input(s) and writes an output; this node has {} input(s), {} output(s)",
            node.op_type,
            node.input.len(),
            node.output.len()
        )));
    }
    match node.op_type.as_str() {
        "Conv" | "ConvTranspose" | "MatMul" => c.convolution(node),
        "BatchNormalization" | "ReduceMean" | "Softmax" => c.normalization(node),
        "MaxPool" | "AveragePool" | "GlobalAveragePool" | "Resize" => c.pooling(node),
        "Add" | "Mul" | "Div" | "Sub" | "Clip" | "Sigmoid" | "Relu" | "HardSigmoid" | "HardSwish" | "Erf" | "Pow"
        | "Sqrt" => c.elementwise(node),
        "Constant" | "Identity" | "Shape" | "Reshape" | "Concat" | "Split" | "Slice" | "Squeeze" | "Unsqueeze"
        | "Transpose" => c.shape(node),
        other => Err(Error::UnsupportedOperator(other.into())),
    }
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
    use super::super::epilogue::Act;
    use super::super::testing::ramp;
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
    fn a_node_short_of_inputs_or_outputs_is_malformed_not_a_panic() {
        let model = |n: NodeProto| {
            let graph = GraphProto {
                node: vec![n],
                input: vec![ValueInfoProto { name: "x".into() }],
                output: vec![ValueInfoProto { name: "y".into() }],
                ..Default::default()
            };
            ModelProto { graph: Some(graph), ..Default::default() }.encode_to_vec()
        };
        let no_output = NodeProto { output: vec![], ..node("Relu", &["x"], "y", vec![]) };
        for n in [node("Reshape", &["x"], "y", vec![]), node("BatchNormalization", &["x"], "y", vec![]), no_output] {
            let err = Graph::from_onnx(&model(n.clone())).err().unwrap_or_else(|| panic!("{} compiled", n.op_type));
            assert!(err.to_string().contains("reads"), "{err}");
        }
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
        let x = ramp((1, 2, 5, 6), 0.05, -1.2);
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
