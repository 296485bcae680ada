//! Gradient-boosted trees on a fitted conditional logit: the linear model says how each feature
//! counts on its own, and small trees fitted to what it still gets wrong add where features act
//! together (a colon counts on the key's row, a gap counts differently below). Each tree is
//! grown level by level on histograms of the features cut at their quantiles, its leaves the
//! Newton steps of the choice's loss, shrunk by the learning rate. Reproducible: no sampling.

use pagewise_engine::fitted::{Logistic, Tree};

use super::logistic::Group;

/// How many trees, how deep, how far each one steps.
#[derive(Debug, Clone, Copy)]
pub struct Boosting {
    pub trees: usize,
    pub depth: usize,
    /// Learning rate: each tree's leaves are shrunk by it.
    pub rate: f64,
    /// L2 penalty on a leaf's value (in units of the loss's curvature).
    pub l2: f64,
    /// A split leaves at least this much curvature each side (a candidate adds p(1 - p), at most
    /// 1/4: about twenty candidates the model is unsure of).
    pub min_weight: f64,
}

impl Default for Boosting {
    fn default() -> Self {
        Boosting { trees: 100, depth: 3, rate: 0.1, l2: 1.0, min_weight: 5.0 }
    }
}

/// The fitting commands' options for the trees.
#[derive(clap::Args, Debug, Clone)]
pub struct BoostArgs {
    /// Boosted trees added to each conditional logit (0: linear only; each command has its default)
    #[arg(long)]
    pub trees: Option<usize>,
    /// Levels of each tree
    #[arg(long, default_value_t = Boosting::default().depth)]
    pub depth: usize,
    /// Each tree's learning rate
    #[arg(long, default_value_t = Boosting::default().rate)]
    pub rate: f64,
}

impl BoostArgs {
    /// The boosting asked for, `trees` unless the command line says otherwise.
    pub fn boosting(&self, trees: usize) -> Boosting {
        Boosting { trees: self.trees.unwrap_or(trees), depth: self.depth, rate: self.rate, ..Boosting::default() }
    }
}

/// Cut points per feature (at most this many bins).
const BINS: usize = 64;

/// The candidates of every group in one table, with where each group's rows are.
struct Table<'a> {
    rows: Vec<&'a [f32]>,
    truth: Vec<bool>,
    groups: Vec<std::ops::Range<usize>>,
}

/// `model` with `params.trees` trees added, fitted to the choices `groups` (each a question's
/// candidates and which are right; "none of them" has score 0).
pub fn boost_choice(groups: &[Group], mut model: Logistic, params: Boosting) -> Logistic {
    let mut table = Table { rows: Vec::new(), truth: Vec::new(), groups: Vec::new() };
    for g in groups {
        let start = table.rows.len();
        for (x, y) in g {
            table.rows.push(x.as_slice());
            table.truth.push(*y);
        }
        table.groups.push(start..table.rows.len());
    }
    let k = table.rows.first().map_or(0, |x| x.len());
    if k == 0 || params.depth == 0 {
        return model;
    }
    let cuts: Vec<Vec<f32>> = (0..k).map(|j| cut_points(&table.rows, j)).collect();
    let bins: Vec<u8> =
        table.rows.iter().flat_map(|x| (0..k).map(|j| cuts[j].partition_point(|&c| c <= x[j]) as u8)).collect();
    let mut score: Vec<f64> = table.rows.iter().map(|x| model.logit(x) as f64).collect();
    let (mut grad, mut hess) = (vec![0.0; score.len()], vec![0.0; score.len()]);
    for _ in 0..params.trees {
        choice_gradients(&table, &score, &mut grad, &mut hess);
        let tree = grow(&bins, k, &cuts, &grad, &hess, params);
        for (s, x) in score.iter_mut().zip(&table.rows) {
            *s += tree.value(x) as f64;
        }
        model.trees.push(tree);
    }
    model
}

/// Where a feature is cut: at most `BINS - 1` of its values, at its quantiles; a value below
/// the cut goes left.
fn cut_points(rows: &[&[f32]], j: usize) -> Vec<f32> {
    let mut v: Vec<f32> = rows.iter().map(|x| x[j]).collect();
    v.sort_by(f32::total_cmp);
    let mut cuts: Vec<f32> = (1..BINS).map(|q| v[q * v.len() / BINS]).collect();
    cuts.dedup();
    // The smallest value cuts nothing off.
    cuts.retain(|&c| c > v[0]);
    cuts
}

/// The gradient and curvature of `-log P(the truth)` in each candidate's score: the softmax
/// over a group's candidates and "none" (score 0), the truth's copies sharing its part.
fn choice_gradients(t: &Table, score: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    for g in &t.groups {
        let top = score[g.clone()].iter().copied().fold(0.0f64, f64::max);
        let all = (-top).exp() + score[g.clone()].iter().map(|s| (s - top).exp()).sum::<f64>();
        let right: f64 = g.clone().filter(|&r| t.truth[r]).map(|r| (score[r] - top).exp()).sum();
        for r in g.clone() {
            let e = (score[r] - top).exp();
            let p = e / all;
            let q = if t.truth[r] { e / right } else { 0.0 };
            grad[r] = p - q;
            hess[r] = (p * (1.0 - p)).max(1e-6);
        }
    }
}

/// One tree of `params.depth` levels fitted to the rows' gradients: each node splits where the
/// second-order gain is largest, or not at all.
fn grow(bins: &[u8], k: usize, cuts: &[Vec<f32>], grad: &[f64], hess: &[f64], params: Boosting) -> Tree {
    let splits = (1usize << params.depth) - 1;
    let mut tree = Tree { feature: vec![0; splits], below: vec![f32::MAX; splits], leaves: vec![0.0; splits + 1] };
    let mut node = vec![0usize; grad.len()];
    let gain = |g: f64, h: f64| g * g / (h + params.l2);
    for level in 0..params.depth {
        let (first, count) = ((1usize << level) - 1, 1usize << level);
        // Sums of gradient and curvature per node, feature and bin.
        let mut hist = vec![(0.0f64, 0.0f64); count * k * BINS];
        for (r, &n) in node.iter().enumerate() {
            let at = (n - first) * k * BINS;
            for j in 0..k {
                let cell = &mut hist[at + j * BINS + bins[r * k + j] as usize];
                cell.0 += grad[r];
                cell.1 += hess[r];
            }
        }
        let mut chosen: Vec<Option<(usize, usize)>> = vec![None; count];
        for (local, best_split) in chosen.iter_mut().enumerate() {
            let at = local * k * BINS;
            let (g, h) = hist[at..at + BINS].iter().fold((0.0, 0.0), |a, c| (a.0 + c.0, a.1 + c.1));
            let mut best = (1e-9, None);
            for j in 0..k {
                let (mut gl, mut hl) = (0.0, 0.0);
                for b in 0..cuts[j].len() {
                    let cell = hist[at + j * BINS + b];
                    gl += cell.0;
                    hl += cell.1;
                    let (gr, hr) = (g - gl, h - hl);
                    if hl < params.min_weight || hr < params.min_weight {
                        continue;
                    }
                    let won = gain(gl, hl) + gain(gr, hr) - gain(g, h);
                    if won > best.0 {
                        best = (won, Some((j, b)));
                    }
                }
            }
            *best_split = best.1;
            if let Some((j, b)) = best.1 {
                tree.feature[first + local] = j as u16;
                tree.below[first + local] = cuts[j][b];
            }
        }
        for (r, n) in node.iter_mut().enumerate() {
            let right = chosen[*n - first].is_some_and(|(j, b)| bins[r * k + j] as usize > b);
            *n = 2 * *n + 1 + usize::from(right);
        }
    }
    let mut sums = vec![(0.0f64, 0.0f64); splits + 1];
    for (r, &n) in node.iter().enumerate() {
        sums[n - splits].0 += grad[r];
        sums[n - splits].1 += hess[r];
    }
    for (leaf, (g, h)) in tree.leaves.iter_mut().zip(sums) {
        *leaf = (-params.rate * g / (h + params.l2)) as f32;
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::super::logistic::fit_choice;
    use super::*;

    /// Questions of four candidates whose truth is the one where two features agree (both high
    /// or both low): no weighting of the features alone tells it, trees do.
    fn agreeing(questions: usize) -> Vec<Group> {
        (0..questions)
            .map(|q| {
                (0..4)
                    .map(|i| {
                        let a = ((q * 7 + i * 3) % 5) as f32;
                        let right = i == q % 4;
                        let b = if right == (a >= 2.0) { 1.0 } else { 0.0 };
                        (vec![a, b, ((q + i) % 3) as f32], right)
                    })
                    .collect()
            })
            .collect()
    }

    fn right_share(model: &Logistic, groups: &[Group]) -> f64 {
        let right = groups.iter().filter(|g| {
            let x: Vec<&[f32]> = g.iter().map(|(x, _)| x.as_slice()).collect();
            let p = model.choice(&x);
            let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            g[best].1
        });
        right.count() as f64 / groups.len() as f64
    }

    #[test]
    fn trees_learn_what_features_say_together_and_the_weights_keep_their_shape() {
        let train = agreeing(400);
        let linear = fit_choice(&train);
        let boosted = boost_choice(&train, linear.clone(), Boosting { trees: 60, ..Boosting::default() });
        let test = agreeing(97);
        let (before, after) = (right_share(&linear, &test), right_share(&boosted, &test));
        assert!(after > 0.95 && after > before + 0.2, "linear {before}, boosted {after}");
        assert!(boosted.is_sound(3) && boosted.trees.len() == 60);
        assert!(boosted.trees.iter().all(|t| t.leaves.len() == 8));
        // The same data, the same trees.
        let again = boost_choice(&train, linear, Boosting { trees: 60, ..Boosting::default() });
        assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&boosted).unwrap());
    }

    #[test]
    fn cut_points_are_distinct_quantiles_above_the_smallest_value() {
        let rows: Vec<Vec<f32>> = (0..1000).map(|i| vec![(i % 4) as f32, i as f32]).collect();
        let rows: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        assert_eq!(cut_points(&rows, 0), [1.0, 2.0, 3.0]);
        let fine = cut_points(&rows, 1);
        assert_eq!(fine.len(), BINS - 1);
        assert!(fine.windows(2).all(|w| w[0] < w[1]) && fine[0] > 0.0);
    }
}
