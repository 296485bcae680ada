//! The few ONNX protobuf messages a model file needs to be read: decoded with prost from
//! hand-written message definitions (field numbers from onnx.proto), so no `protoc` is needed
//! to build.

use prost::Message;

use super::error::{Error, Result};

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

const FLOAT: i32 = 1;
const INT32: i32 = 6;
const INT64: i32 = 7;

/// A constant tensor's contents.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Float(Vec<f32>),
    Int(Vec<i64>),
}

/// `v`, or zero where it is subnormal.
fn normal(v: f32) -> f32 {
    if v.is_subnormal() {
        0.0
    } else {
        v
    }
}

impl TensorProto {
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|&d| d.max(0) as usize).collect()
    }

    /// The values, from the typed field or from little-endian `raw_data`.
    pub fn data(&self) -> Result<Data> {
        let raw = &self.raw_data;
        match self.data_type {
            // Subnormal weights (pruned ones in PP-OCR's detector) are zero for all purposes,
            // and arithmetic on them runs a hundred times slower.
            FLOAT if !raw.is_empty() => Ok(Data::Float(
                raw.chunks_exact(4).map(|c| normal(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect(),
            )),
            FLOAT => Ok(Data::Float(self.float_data.iter().map(|&v| normal(v)).collect())),
            INT64 if !raw.is_empty() => {
                Ok(Data::Int(raw.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()))
            }
            INT64 => Ok(Data::Int(self.int64_data.clone())),
            INT32 if !raw.is_empty() => {
                Ok(Data::Int(raw.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64).collect()))
            }
            INT32 => Ok(Data::Int(self.int32_data.iter().map(|&v| v as i64).collect())),
            other => Err(Error::UnsupportedDataType { name: self.name.clone(), data_type: other }),
        }
    }
}

impl NodeProto {
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attribute.iter().find(|a| a.name == name)
    }
    pub fn attr_i(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map_or(default, |a| a.i)
    }
    pub fn attr_f(&self, name: &str, default: f32) -> f32 {
        self.attr(name).map_or(default, |a| a.f)
    }
    pub fn attr_ints(&self, name: &str) -> Vec<i64> {
        self.attr(name).map(|a| a.ints.clone()).unwrap_or_default()
    }
    pub fn attr_s(&self, name: &str) -> String {
        self.attr(name).map(|a| String::from_utf8_lossy(&a.s).into_owned()).unwrap_or_default()
    }
}

pub fn decode_model(bytes: &[u8]) -> Result<ModelProto> {
    Ok(ModelProto::decode(bytes)?)
}
