//! Inputs for the kernels' tests.

use candle_core::{Device, Shape, Tensor};

/// 0, 1, 2, ... laid out in `shape`, each times `step` plus `start`: distinct values, the
/// same on every run.
pub(super) fn ramp(shape: impl Into<Shape>, step: f64, start: f64) -> Tensor {
    let shape = shape.into();
    Tensor::arange(0f32, shape.elem_count() as f32, &Device::Cpu)
        .and_then(|t| t.reshape(shape))
        .and_then(|t| t.affine(step, start))
        .unwrap()
}
