//! Small fitted models whose weights are data files under assets/ (fitted by the developer
//! tool, never at run time): a logistic model over standardised features, used on its own
//! (`P(yes | x)`) or as a choice among candidates and "none of them" (a softmax). Its logit is
//! linear in the features, plus, where the fit found them worth it, small boosted trees that
//! correct it where features act together (a colon counts on the key's row, not below it).

use serde::{Deserialize, Serialize};

/// A logistic model over standardised features.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logistic {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Boosted trees added to the linear logit (none: a plain logistic model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trees: Vec<Tree>,
}

/// A complete binary tree over the raw features, nodes in breadth-first order: node `i` sends
/// `x` to `2i + 1` when `x[feature] < below`, else to `2i + 2`; the leaves hold what it adds
/// to the logit. A node that does not split has `below` = `f32::MAX` (everything goes left).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tree {
    pub feature: Vec<u16>,
    pub below: Vec<f32>,
    pub leaves: Vec<f32>,
}

impl Tree {
    pub fn value(&self, x: &[f32]) -> f32 {
        let mut i = 0;
        while i < self.feature.len() {
            let right = x[self.feature[i] as usize] >= self.below[i];
            i = 2 * i + 1 + usize::from(right);
        }
        self.leaves[i - self.feature.len()]
    }

    /// Whole: `2^d - 1` splits on features below `features`, `2^d` leaves, all finite.
    fn is_sound(&self, features: usize) -> bool {
        self.below.len() == self.feature.len()
            && self.leaves.len() == self.feature.len() + 1
            && self.leaves.len().is_power_of_two()
            && self.feature.iter().all(|&f| (f as usize) < features)
            && self.below.iter().chain(&self.leaves).all(|v| v.is_finite())
    }
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
            + self.trees.iter().map(|t| t.value(x)).sum::<f32>()
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
            && self.trees.iter().all(|t| t.is_sound(features))
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
        Logistic { mean: vec![0.0; n], scale: vec![1.0; n], weights: vec![0.0; n], bias: 0.0, trees: Vec::new() }
    }

    #[test]
    fn trees_add_their_leaves_to_the_logit() {
        let mut model = zero(2);
        model.weights[0] = 1.0;
        // Depth 2: x1 < 0.5 ? (x0 < 2 ? 0.1 : 0.2) : (no split: 0.3).
        model.trees.push(Tree {
            feature: vec![1, 0, 0],
            below: vec![0.5, 2.0, f32::MAX],
            leaves: vec![0.1, 0.2, 0.3, 0.4],
        });
        assert!(model.is_sound(2));
        assert!((model.logit(&[1.0, 0.0]) - 1.1).abs() < 1e-6);
        assert!((model.logit(&[3.0, 0.0]) - 3.2).abs() < 1e-6);
        assert!((model.logit(&[3.0, 1.0]) - 3.3).abs() < 1e-6);
        // A split on a feature the model does not have, or leaves that do not fill the tree: unsound.
        model.trees[0].feature[2] = 2;
        assert!(!model.is_sound(2));
        model.trees[0].feature[2] = 0;
        model.trees[0].leaves.pop();
        assert!(!model.is_sound(2));
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
