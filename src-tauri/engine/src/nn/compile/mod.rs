//! Compiling ONNX nodes into steps: the compiler's state (the constants known so far, the
//! slots named values live in, the steps so far) and its helpers, here; each operator family
//! is compiled in a file of its own below, which `graph` dispatches to.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use super::error::{Error, Result};
use super::onnx::{Data, GraphProto, NodeProto, TensorProto};
use super::ops::{fits, Op, Operand, Step};

mod convolution;
mod elementwise;
mod normalization;
mod pooling;
mod shape;

/// A constant tensor of the model file: its shape and values. Dimensions that candle cannot lay
/// out are malformed (found by fuzzing: an empty weight with huge other dimensions panicked
/// in candle's strides).
pub(super) fn file_constant(t: &TensorProto) -> Result<(Vec<usize>, Data)> {
    let (shape, data) = (t.shape(), t.data()?);
    if !fits(&shape) {
        let len = match &data {
            Data::Float(v) => v.len(),
            Data::Int(v) => v.len(),
        };
        return Err(Error::ShapeMismatch { len, shape });
    }
    Ok((shape, data))
}

pub(super) struct Compiler {
    pub(super) consts: HashMap<String, (Vec<usize>, Data)>,
    pub(super) slots: HashMap<String, usize>,
    pub(super) steps: Vec<Step>,
    /// Which step produced a slot, and how many nodes read the value by name.
    producer: HashMap<usize, usize>,
    readers: HashMap<String, usize>,
}

impl Compiler {
    /// A compiler that knows the graph's initializers and how many nodes read each value.
    pub(super) fn new(graph: &GraphProto) -> Result<Self> {
        let mut c = Compiler {
            consts: HashMap::new(),
            slots: HashMap::new(),
            steps: Vec::new(),
            producer: HashMap::new(),
            readers: HashMap::new(),
        };
        for t in &graph.initializer {
            c.consts.insert(t.name.clone(), file_constant(t)?);
        }
        for n in &graph.node {
            for i in &n.input {
                *c.readers.entry(i.clone()).or_default() += 1;
            }
        }
        Ok(c)
    }

    pub(super) fn slot(&mut self, name: &str) -> usize {
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

    /// The slot of the node's first input.
    fn first_input(&self, node: &NodeProto) -> Result<usize> {
        self.input_slot(&node.input[0])
    }

    /// A step of `op` on the node's first input.
    fn push_on_first(&mut self, node: &NodeProto, op: Op) -> Result<()> {
        let x = self.first_input(node)?;
        self.push(node, op, vec![x]);
        Ok(())
    }
}
