//! The two models of the ranking, fitted by Newton's method on standardised features with an
//! L2 penalty (not on the bias): a logistic regression, each candidate on its own (the items
//! of a list); and a conditional logit, one choice per question among its candidates and
//! "none of them" (a single value). A few dozen weights, fitted exactly and reproducibly.
//! The same fits serve every model of the kind (the fields' ranking, the forms' key-values).

use pagewise_engine::fitted::Logistic;

/// Weight of the L2 penalty (on standardised features).
pub const L2: f64 = 1.0;

/// A question's candidates, each with its features and whether it is the truth (none may be).
pub type Group = Vec<(Vec<f32>, bool)>;

/// How many features the samples have.
fn width(groups: &[Group]) -> usize {
    groups.iter().flatten().map(|(x, _)| x.len()).next().unwrap_or(0)
}

/// Means and standard deviations of the features (1 where a feature never varies).
fn standardise(groups: &[Group]) -> (Vec<f64>, Vec<f64>) {
    let n = groups.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let k = width(groups);
    assert!(groups.iter().flatten().all(|(x, _)| x.len() == k), "samples with different numbers of features");
    let rows = || groups.iter().flatten().map(|(x, _)| x);
    let mut mean = vec![0.0f64; k];
    rows().for_each(|x| (0..k).for_each(|j| mean[j] += x[j] as f64 / n));
    let mut var = vec![0.0f64; k];
    rows().for_each(|x| (0..k).for_each(|j| var[j] += (x[j] as f64 - mean[j]).powi(2) / n));
    (mean, var.into_iter().map(|v| if v > 1e-12 { v.sqrt() } else { 1.0 }).collect())
}

/// Standardised features with a trailing 1 for the bias.
type Row = Vec<f64>;

fn rows(groups: &[Group], mean: &[f64], scale: &[f64]) -> Vec<Vec<(Row, bool)>> {
    let row = |x: &[f32]| -> Row {
        x.iter().zip(mean).zip(scale).map(|((v, m), s)| (*v as f64 - m) / s).chain([1.0]).collect()
    };
    groups.iter().map(|g| g.iter().map(|(x, y)| (row(x), *y)).collect()).collect()
}

/// `P(right | x)` for each candidate on its own (the questions' candidates taken together).
pub fn fit(groups: &[Group]) -> Logistic {
    let (mean, scale) = standardise(groups);
    let data = rows(groups, &mean, &scale);
    let n = mean.len();
    let beta = newton(n, |beta, grad, hess| {
        let mut loss = 0.0;
        for (x, y) in data.iter().flatten() {
            let z = dot(beta, x);
            let p = 1.0 / (1.0 + (-z).exp());
            loss += if *y { softplus(-z) } else { softplus(z) };
            let w = (p * (1.0 - p)).max(1e-9);
            let r = p - if *y { 1.0 } else { 0.0 };
            for a in 0..=n {
                grad[a] += r * x[a];
                for b in 0..=n {
                    hess[a][b] += w * x[a] * x[b];
                }
            }
        }
        loss
    });
    logistic(beta, &mean, &scale)
}

/// Scores whose softmax over a question's candidates and "none" (score 0) is the chance that
/// each is the answer; a value printed twice is right in both places.
pub fn fit_choice(groups: &[Group]) -> Logistic {
    let (mean, scale) = standardise(groups);
    let data = rows(groups, &mean, &scale);
    let n = mean.len();
    let beta = newton(n, |beta, grad, hess| {
        let mut loss = 0.0;
        for g in data.iter().filter(|g| !g.is_empty()) {
            let z: Vec<f64> = g.iter().map(|(x, _)| dot(beta, x)).collect();
            let top = z.iter().copied().fold(0.0f64, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
            let all = (-top).exp() + e.iter().sum::<f64>();
            let right: f64 = e.iter().zip(g).filter(|(_, (_, y))| *y).map(|(v, _)| v).sum();
            // -log P(the truth): of its copies together, or of "none".
            loss += all.ln() - if right > 0.0 { right.ln() } else { -top };
            let mut mean_all = vec![0.0f64; n + 1];
            let mut mean_right = vec![0.0f64; n + 1];
            for ((x, y), v) in g.iter().zip(&e) {
                for a in 0..=n {
                    mean_all[a] += v / all * x[a];
                    if *y {
                        mean_right[a] += v / right * x[a];
                    }
                }
            }
            // Curvature: the candidates' covariance under the model (positive semi-definite;
            // the exact Hessian less the truth's own covariance, which only helps the steps).
            for ((x, _), v) in g.iter().zip(&e) {
                for a in 0..=n {
                    for b in 0..=n {
                        hess[a][b] += v / all * x[a] * x[b];
                    }
                }
            }
            for a in 0..=n {
                grad[a] += mean_all[a] - mean_right[a];
                for b in 0..=n {
                    hess[a][b] -= mean_all[a] * mean_all[b];
                }
            }
        }
        loss
    });
    logistic(beta, &mean, &scale)
}

/// `P(yes | x)` over one feature, pinned to pass through `(at, p)`: only the slope is fitted
/// (none below 0; L2-penalised like the others), so values on either side of `at` stay there.
pub fn fit_through(samples: &[(f32, bool)], at: f32, p: f32) -> Logistic {
    let bias = (p as f64 / (1.0 - p as f64)).ln();
    // The penalty on the slope of the standardised feature, as in the other fits.
    let n = samples.len().max(1) as f64;
    let mean = samples.iter().map(|&(x, _)| x as f64).sum::<f64>() / n;
    let var = samples.iter().map(|&(x, _)| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let l2 = L2 * if var > 1e-12 { var } else { 1.0 };
    let loss_of = |a: f64| {
        let mut loss = 0.5 * l2 * a * a;
        let (mut grad, mut hess) = (l2 * a, l2);
        for &(x, y) in samples {
            let d = x as f64 - at as f64;
            let z = a * d + bias;
            let q = 1.0 / (1.0 + (-z).exp());
            loss += if y { softplus(-z) } else { softplus(z) };
            grad += (q - if y { 1.0 } else { 0.0 }) * d;
            hess += q * (1.0 - q) * d * d;
        }
        (loss, grad, hess)
    };
    let mut slope = 0.0f64;
    for _ in 0..100 {
        let (loss, grad, hess) = loss_of(slope);
        let step = grad / hess;
        let mut t = 1.0;
        while t >= 1e-4 && loss_of((slope - t * step).max(0.0)).0 > loss {
            t /= 2.0;
        }
        let next = (slope - t * step).max(0.0);
        let moved = (next - slope).abs();
        slope = next;
        if moved < 1e-9 {
            break;
        }
    }
    Logistic { mean: vec![at], scale: vec![1.0], weights: vec![slope as f32], bias: bias as f32, trees: Vec::new() }
}

fn logistic(beta: Vec<f64>, mean: &[f64], scale: &[f64]) -> Logistic {
    let n = mean.len();
    Logistic {
        mean: mean.iter().map(|&v| v as f32).collect(),
        scale: scale.iter().map(|&v| v as f32).collect(),
        weights: beta[..n].iter().map(|&v| v as f32).collect(),
        bias: beta[n] as f32,
        trees: Vec::new(),
    }
}

fn dot(beta: &[f64], x: &Row) -> f64 {
    beta.iter().zip(x).map(|(b, v)| b * v).sum()
}

fn softplus(z: f64) -> f64 {
    if z > 30.0 {
        z
    } else {
        z.exp().ln_1p()
    }
}

/// Minimise `loss + L2/2 |w|^2` by Newton steps, halved while they do not lower it. `eval`
/// adds the loss's gradient and curvature at `beta` into the zeroed buffers and returns it;
/// `beta` holds a weight for each of the `n` features, then the bias.
fn newton(n: usize, eval: impl Fn(&[f64], &mut [f64], &mut [Vec<f64>]) -> f64) -> Vec<f64> {
    let penalised = |beta: &[f64], grad: &mut [f64], hess: &mut [Vec<f64>]| {
        let mut loss = eval(beta, grad, hess);
        for j in 0..n {
            loss += 0.5 * L2 * beta[j] * beta[j];
            grad[j] += L2 * beta[j];
            hess[j][j] += L2;
        }
        hess[n][n] += 1e-6;
        loss
    };
    let fresh = || (vec![0.0f64; n + 1], vec![vec![0.0f64; n + 1]; n + 1]);
    let mut beta = vec![0.0f64; n + 1];
    for _ in 0..100 {
        let (mut grad, mut hess) = fresh();
        let loss = penalised(&beta, &mut grad, &mut hess);
        let step = solve(hess, grad.clone());
        let mut t = 1.0;
        loop {
            let next: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let (mut g2, mut h2) = fresh();
            if penalised(&next, &mut g2, &mut h2) <= loss || t < 1e-4 {
                beta = next;
                break;
            }
            t /= 2.0;
        }
        if t * step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-8 {
            break;
        }
    }
    beta
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting (`a` is positive definite).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let d = a[col][col];
        if d.abs() < 1e-15 {
            continue;
        }
        for row in col + 1..n {
            let f = a[row][col] / d;
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = if a[row][row].abs() < 1e-15 { 0.0 } else { (b[row] - s) / a[row][row] };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 8;

    #[test]
    fn a_separating_feature_gets_the_weight_and_probabilities_follow_it() {
        // Label follows feature 0 (with noise); feature 1 is noise.
        let samples: Vec<(Vec<f32>, bool)> = (0..400)
            .map(|i| {
                let mut x = vec![0.0f32; N];
                x[0] = (i % 10) as f32;
                x[1] = ((i * 7919) % 13) as f32;
                (x, i % 10 >= 5 && i % 17 != 0)
            })
            .collect();
        let m = fit(&[samples]);
        assert!(m.weights[0] > 1.0, "{:?}", m.weights);
        assert!(m.weights[1].abs() < m.weights[0].abs() / 5.0, "{:?}", m.weights);
        let p = |v: f32| {
            let mut x = vec![0.0f32; N];
            x[0] = v;
            x[1] = 6.0;
            m.probability(&x)
        };
        assert!(p(9.0) > 0.8 && p(0.0) < 0.2, "{} {}", p(9.0), p(0.0));
        // A feature that never varies has no weight.
        assert_eq!(m.weights[5], 0.0);
    }

    #[test]
    fn a_choice_picks_the_candidate_its_features_point_at_and_learns_how_often_there_is_none() {
        // Each question: four candidates; the truth has the largest feature 0, except every
        // fourth question whose truth is absent ("none").
        let groups: Vec<Group> = (0..200)
            .map(|q| {
                (0..4)
                    .map(|i| {
                        let mut x = vec![0.0f32; N];
                        x[0] = if i == q % 4 { 3.0 } else { (i as f32) * 0.3 };
                        x[1] = ((q * 31 + i * 7) % 5) as f32;
                        (x, i == q % 4 && q % 4 != 3)
                    })
                    .collect()
            })
            .collect();
        let m = fit_choice(&groups);
        let (mut sure, mut none_share) = (0.0, 0.0);
        for g in &groups {
            let x: Vec<&[f32]> = g.iter().map(|(x, _)| x.as_slice()).collect();
            let p = m.choice(&x);
            let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(x[best][0], 3.0);
            sure += p[best] as f64 / groups.len() as f64;
            none_share += (1.0 - p.iter().sum::<f32>()) as f64 / groups.len() as f64;
        }
        // A quarter of the questions have no answer: "none" takes about a quarter.
        assert!((none_share - 0.25).abs() < 0.05, "{none_share}");
        assert!((sure - 0.75).abs() < 0.05, "{sure}");
    }

    #[test]
    fn a_pinned_fit_passes_through_its_point_and_follows_the_data_elsewhere() {
        // Right 3 times in 10 at 0.3, 9 in 10 at 0.9, 1 in 10 at 0.
        let mut samples = Vec::new();
        for k in 0..50 {
            samples.push((0.3, k % 10 < 3));
            samples.push((0.9, k % 10 < 9));
            samples.push((0.0, k % 10 < 1));
        }
        let model = fit_through(&samples, 0.3, 0.3);
        assert!((model.probability(&[0.3]) - 0.3).abs() < 1e-6);
        let (high, low) = (model.probability(&[0.9]), model.probability(&[0.0]));
        assert!(high > 0.85 && high < 0.95 && low > 0.05 && low < 0.2, "{high} {low}");
        // Never falling: data that says the opposite gets a flat line.
        let falling: Vec<(f32, bool)> = samples.iter().map(|&(x, y)| (x, !y)).collect();
        assert_eq!(fit_through(&falling, 0.3, 0.3).weights, vec![0.0]);
    }

    #[test]
    fn the_fit_is_calibrated_on_its_own_data() {
        // Half the samples with x = 1 are positive: the model says 0.5 there.
        let samples: Vec<(Vec<f32>, bool)> = (0..200)
            .map(|i| {
                let mut x = vec![0.0f32; N];
                x[0] = 1.0;
                (x, i % 2 == 0)
            })
            .collect();
        let m = fit(&[samples]);
        let mut x = vec![0.0f32; N];
        x[0] = 1.0;
        assert!((m.probability(&x) - 0.5).abs() < 0.01);
    }
}
