//! ONNX model files: the protobuf decoder and the graph compiler that loads a model (constant
//! tensors decoded, operators checked and fused). Seeds are tiny graphs built here, one for each
//! family of operators the compiler knows.

use pagewise_engine::nn::graph::Graph;
use pagewise_engine::nn::onnx::{self, AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use pagewise_engine::nn::Error;
use prost::Message;

use super::outcome_name;

pub const TOKENS: &[&[u8]] = &[
    b"\x3a",     // ModelProto.graph (7, length-delimited)
    b"\x0a",     // field 1, length-delimited
    b"\x12",     // field 2, length-delimited
    b"\x2a",     // GraphProto.initializer / NodeProto.attribute (5)
    b"\x5a",     // GraphProto.input (11)
    b"\x62",     // GraphProto.output (12)
    b"\x72",     // ModelProto.metadata_props (14)
    b"\x08",     // field 1, varint (dims)
    b"\x10\x01", // data_type FLOAT
    b"\x10\x07", // data_type INT64
    b"\x18",     // AttributeProto.i (3), varint
    b"\x4a",     // TensorProto.raw_data (9)
    b"\x42\x04", // ints, packed
    b"\xff\xff\xff\xff\x0f",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"Conv",
    b"ConvTranspose",
    b"MatMul",
    b"BatchNormalization",
    b"Reshape",
    b"Transpose",
    b"Concat",
    b"Slice",
    b"Resize",
    b"Split",
    b"Constant",
    b"Softmax",
    b"axis",
    b"perm",
    b"kernel_shape",
    b"strides",
    b"pads",
    b"group",
    b"dilations",
];

fn value(name: &str) -> ValueInfoProto {
    ValueInfoProto { name: name.into() }
}

fn floats(name: &str, dims: &[i64], raw: bool) -> TensorProto {
    let count: i64 = dims.iter().product();
    let values: Vec<f32> = (0..count).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut t = TensorProto { dims: dims.to_vec(), data_type: 1, name: name.into(), ..Default::default() };
    if raw {
        t.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    } else {
        t.float_data = values;
    }
    t
}

fn ints(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: 7,
        int64_data: values.to_vec(),
        name: name.into(),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: format!("{op}_{output}"),
        op_type: op.into(),
        attribute,
    }
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), ints: ints.to_vec(), ..Default::default() }
}

fn attr_i(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i, ..Default::default() }
}

fn model(nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, output: &str) -> Vec<u8> {
    let graph = GraphProto { node: nodes, initializer, input: vec![value("x")], output: vec![value(output)] };
    let metadata = onnx::StringStringEntryProto { key: "producer".into(), value: "pagewise-fuzz".into() };
    ModelProto { graph: Some(graph), metadata_props: vec![metadata] }.encode_to_vec()
}

/// Tiny models: a convolution block, a dense layer, shape operators, pooling and resizing.
pub fn seeds() -> Vec<Vec<u8>> {
    let conv = model(
        vec![
            node(
                "Conv",
                &["x", "w", "b"],
                "c",
                vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1])],
            ),
            node("BatchNormalization", &["c", "s", "bb", "m", "v"], "n", vec![]),
            node("Relu", &["n"], "r", vec![]),
            node("GlobalAveragePool", &["r"], "y", vec![]),
        ],
        vec![
            floats("w", &[2, 1, 3, 3], true),
            floats("b", &[2], false),
            floats("s", &[2], false),
            floats("bb", &[2], false),
            floats("m", &[2], false),
            floats("v", &[2], true),
        ],
        "y",
    );
    let dense = model(
        vec![
            node("MatMul", &["x", "w"], "p", vec![]),
            node("Add", &["p", "b"], "a", vec![]),
            node("Softmax", &["a"], "y", vec![attr_i("axis", -1)]),
        ],
        vec![floats("w", &[4, 3], true), floats("b", &[3], false)],
        "y",
    );
    let shapes = model(
        vec![
            node("Reshape", &["x", "shape"], "r", vec![]),
            node("Transpose", &["r"], "t", vec![attr_ints("perm", &[0, 2, 1])]),
            node("Concat", &["t", "t"], "c", vec![attr_i("axis", 1)]),
            node("Slice", &["c", "starts", "ends", "axes"], "s", vec![]),
            node("Sigmoid", &["s"], "g", vec![]),
            node("Mul", &["g", "s"], "y", vec![]),
        ],
        vec![ints("shape", &[1, 4, -1]), ints("starts", &[0]), ints("ends", &[2]), ints("axes", &[1])],
        "y",
    );
    let pooling = model(
        vec![
            node(
                "MaxPool",
                &["x"],
                "p",
                vec![
                    attr_ints("kernel_shape", &[2, 2]),
                    attr_ints("strides", &[2, 2]),
                    attr_ints("pads", &[0, 0, 1, 1]),
                ],
            ),
            node("Resize", &["p", "roi", "scales"], "r", vec![]),
            node("Clip", &["r", "lo", "hi"], "c", vec![]),
            node("HardSwish", &["c"], "y", vec![]),
        ],
        vec![
            floats("roi", &[0], false),
            floats("scales", &[4], false),
            floats("lo", &[], false),
            floats("hi", &[], true),
        ],
        "y",
    );
    let reduce = model(
        vec![
            node("Shape", &["x"], "sh", vec![]),
            node("Unsqueeze", &["x", "ax"], "u", vec![]),
            node("Squeeze", &["u", "ax"], "q", vec![]),
            node("ReduceMean", &["q"], "m", vec![attr_ints("axes", &[-1]), attr_i("keepdims", 1)]),
            node("Sub", &["q", "m"], "d", vec![]),
            node("Pow", &["d", "two"], "p", vec![]),
            node("Sqrt", &["p"], "y", vec![]),
        ],
        vec![ints("ax", &[0]), floats("two", &[], false)],
        "y",
    );
    vec![conv, dense, shapes, pooling, reduce]
}

/// Load as the engine loads a model file; then every constant's values, as a run would read them.
pub fn graph(input: &[u8]) -> String {
    let constants = match onnx::decode_model(input) {
        Ok(m) => {
            let graph = m.graph.unwrap_or_default();
            let attrs = graph.node.iter().flat_map(|n| n.attribute.iter().filter_map(|a| a.t.as_ref()));
            let decoded = graph.initializer.iter().chain(attrs).filter(|t| t.data().is_ok() && !t.shape().is_empty());
            format!("{} constant(s)", decoded.count().min(4))
        }
        Err(e) => return format!("decode: {}", outcome_name(&e.to_string())),
    };
    match Graph::from_onnx(input) {
        Ok(_) => format!("compiled, {constants}"),
        Err(e) => format!("{constants}: {}", error_name(&e)),
    }
}

/// An error's name without the names the file gives its nodes, values and operators.
fn error_name(e: &Error) -> String {
    match e {
        Error::Node { source, .. } if matches!(**source, Error::UnsupportedOperator(_)) => {
            "unsupported operator".into()
        }
        Error::Node { op, source, .. } => format!("{op}: {}", error_name(source)),
        Error::NotConstant(_) => "not a constant".into(),
        Error::UnsupportedDataType { .. } => "unsupported data type".into(),
        other => outcome_name(&other.to_string()),
    }
}
