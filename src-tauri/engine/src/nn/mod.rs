//! Neural-network plumbing shared by the models Pagewise runs on candle: ONNX model files
//! decoded with prost ([`onnx`]), compiled node by node (`compile`, a file per operator family)
//! into a small graph runner ([`graph`]) that fuses steps (`fuse`) and runs each as an operator
//! (`ops`) on CPU kernels candle lacks or runs slowly: convolutions (`conv`) and the matrix
//! `product` under them, transposed convolutions (`transpose`), pooling (`pool`), element-wise
//! functions ([`elementwise`]), the bias and activation a product ends with (`epilogue`), all on
//! what the CPU offers (`cpu`). [`prep`] prepares images as the models' reference pipelines do;
//! [`tune_process`] sets the process up for the networks, once, from a front end's `main`.
//! Failures are [`Error`]s.
//!
//! Imports run one way: graph -> compile, fuse -> ops -> the kernels (conv, transpose, pool,
//! product, epilogue, elementwise) -> cpu.

mod compile;
mod conv;
mod cpu;
pub(crate) mod elementwise;
mod epilogue;
mod error;
mod fuse;
pub mod graph;
pub mod onnx;
mod ops;
mod pool;
pub mod prep;
pub(crate) mod product;
#[cfg(test)]
mod testing;
mod transpose;
mod tuning;

#[cfg(target_arch = "x86_64")]
pub(crate) use cpu::has_avx2_fma;
pub(crate) use cpu::SharedOut;
pub use error::{Error, Result};
pub use tuning::{release_freed_memory, tune_process};
