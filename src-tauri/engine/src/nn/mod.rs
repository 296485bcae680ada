//! Neural-network plumbing shared by the models Pagewise runs on candle: ONNX model files
//! decoded with prost ([`onnx`]), compiled into a small graph runner ([`graph`]) with a few CPU
//! kernels candle lacks or runs slowly (`conv` and the matrix `product` under it, `kernels`, `elementwise`), the operators (`ops`) and step fusion (`fuse`);
//! [`prep`] prepares images as the models' reference pipelines do.

mod conv;
pub(crate) mod elementwise;
mod fuse;
pub mod graph;
mod kernels;
pub mod onnx;
mod ops;
pub mod prep;
pub(crate) mod product;

#[cfg(target_arch = "x86_64")]
pub(crate) use kernels::has_avx2_fma;
pub use kernels::release_freed_memory;
pub(crate) use kernels::SharedOut;
