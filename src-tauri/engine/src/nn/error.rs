//! What can go wrong reading, compiling or running a network.

/// An error of the graph runner: the model file, a node it cannot compile, or a tensor
/// operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not an ONNX model (protobuf decoding failed).
    #[error("not an ONNX model: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The model's graph does not hold together: no graph, a value read before anything
    /// computes it, an operator without an input it needs.
    #[error("{0}")]
    Malformed(String),
    /// An operator outside the supported set.
    #[error("operator {0} is not supported")]
    UnsupportedOperator(String),
    /// What the runner does not implement, in a graph or a supported operator (a second input,
    /// dilation, groups, padding modes and the like); the message says which.
    #[error("{0}")]
    Unsupported(String),
    /// An input the runner needs when it compiles the graph (weights, shapes, axes) is computed
    /// at run time instead.
    #[error("{0} must be a constant")]
    NotConstant(String),
    /// A constant tensor of an element type the runner does not read.
    #[error("tensor {name:?} has data type {data_type}, which is not supported")]
    UnsupportedDataType { name: String, data_type: i32 },
    /// Values that do not fill the shape they are given.
    #[error("{len} values do not make a tensor of shape {shape:?}")]
    ShapeMismatch { len: usize, shape: Vec<usize> },
    /// A graph value read at run time before a step computed it.
    #[error("value {0} read before it was computed")]
    NotComputed(usize),
    /// A tensor operation failed, in candle or in one of the runner's kernels.
    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
    /// Compiling one node failed: which node and operator, and why.
    #[error("node {node} ({op}): {source}")]
    Node {
        node: String,
        op: String,
        #[source]
        source: Box<Error>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
