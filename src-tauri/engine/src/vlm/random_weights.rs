//! Weights of the right shapes and random values, for measuring a model at full size without
//! its real weights (speed and memory do not depend on the values): norms are ones, biases
//! zeros, everything else uniform in ±0.04 from a fast per-tensor generator.

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::{Init, VarBuilder};
use rayon::prelude::*;

struct RandomWeights;

fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

impl candle_nn::var_builder::SimpleBackend for RandomWeights {
    fn get(&self, shape: Shape, name: &str, _: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let n = shape.elem_count();
        let values: Vec<f32> = if name.contains("norm") && name.ends_with("weight") {
            vec![1.0; n]
        } else if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            let seed = seed_of(name);
            let mut values = vec![0f32; n];
            values.par_chunks_mut(1 << 16).enumerate().for_each(|(chunk, out)| {
                let mut state = seed ^ (chunk as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                for v in out {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *v = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.08;
                }
            });
            values
        };
        Tensor::from_vec(values, shape, dev)?.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("random weights need a shape for {name}")
    }

    fn contains_tensor(&self, _: &str) -> bool {
        true
    }
}

/// A VarBuilder whose every tensor is random (see the module comment).
pub fn random_var_builder(dtype: DType) -> VarBuilder<'static> {
    VarBuilder::from_backend(Box::new(RandomWeights), dtype, Device::Cpu)
}
