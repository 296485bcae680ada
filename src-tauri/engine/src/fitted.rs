//! Small fitted models whose weights are data files under assets/ (fitted by the developer
//! tool, never at run time): a logistic model over standardised features, used on its own
//! (`P(yes | x)`) or as a choice among candidates and "none of them" (a softmax).

use serde::{Deserialize, Serialize};

/// A logistic model over standardised features.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logistic {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Logistic {
    pub fn probability(&self, x: &[f32]) -> f32 {
        1.0 / (1.0 + (-self.logit(x)).exp())
    }

    pub fn logit(&self, x: &[f32]) -> f32 {
        x.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| w * (v - m) / s.max(1e-6))
            .sum::<f32>()
            + self.bias
    }

    /// The chance that each candidate is the one: a softmax over the candidates' logits and
    /// "none of them" (logit 0).
    pub fn choice<X: AsRef<[f32]>>(&self, candidates: &[X]) -> Vec<f32> {
        let z: Vec<f32> = candidates.iter().map(|x| self.logit(x.as_ref())).collect();
        let top = z.iter().copied().fold(0.0f32, f32::max);
        let none = (-top).exp();
        let e: Vec<f32> = z.iter().map(|v| (v - top).exp()).collect();
        let sum: f32 = none + e.iter().sum::<f32>();
        e.iter().map(|v| v / sum).collect()
    }

    /// Are the weights whole: one per feature, all finite?
    pub fn is_sound(&self, features: usize) -> bool {
        [&self.mean, &self.scale, &self.weights].iter().all(|v| v.len() == features)
            && self.weights.iter().chain(&self.mean).chain(&self.scale).all(|w| w.is_finite())
            && self.bias.is_finite()
    }
}

/// A hash of a weights file (FNV-1a): what was computed with other weights is computed again.
pub fn fingerprint(weights: &str) -> u32 {
    weights.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zero(n: usize) -> Logistic {
        Logistic { mean: vec![0.0; n], scale: vec![1.0; n], weights: vec![0.0; n], bias: 0.0 }
    }

    #[test]
    fn probability_is_a_logistic_of_standardised_features() {
        let mut model = zero(3);
        assert_eq!(model.probability(&[0.0; 3]), 0.5);
        model.weights[0] = 2.0;
        model.mean[0] = 0.5;
        model.scale[0] = 0.25;
        assert!((model.probability(&[0.75, 0.0, 0.0]) - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        assert!(model.is_sound(3) && !model.is_sound(4));
    }

    #[test]
    fn a_choice_shares_its_probability_with_none() {
        let mut model = zero(2);
        model.weights[0] = 1.0;
        let p = model.choice(&[[2.0, 0.0], [0.0, 0.0]]);
        let sum = 1.0 + 2.0f32.exp() + 1.0;
        assert!((p[0] - 2.0f32.exp() / sum).abs() < 1e-6 && (p[1] - 1.0 / sum).abs() < 1e-6, "{p:?}");
        // No candidates: nothing to share.
        assert!(model.choice::<[f32; 2]>(&[]).is_empty());
    }
}
