//! Scores: per-label precision/recall/F1 over tokens, Kendall's tau between two orders, and
//! COCO-style average precision for boxes.

use std::collections::BTreeMap;

use pagewise_engine::layout::detector::picodet::iou_of as iou;

/// Token counts per label: true positives, predicted, expected.
#[derive(Debug, Default, Clone)]
pub struct LabelCounts {
    pub counts: BTreeMap<String, (usize, usize, usize)>,
    /// expected -> predicted ("none" when nothing was predicted) -> tokens
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

impl LabelCounts {
    pub fn add(&mut self, expected: &str, predicted: Option<&str>) {
        self.counts.entry(expected.to_string()).or_default().2 += 1;
        *self
            .confusion
            .entry(expected.to_string())
            .or_default()
            .entry(predicted.unwrap_or("none").to_string())
            .or_default() += 1;
        if let Some(p) = predicted {
            let e = self.counts.entry(p.to_string()).or_default();
            e.1 += 1;
            if p == expected {
                e.0 += 1;
            }
        }
    }

    /// (label, precision, recall, f1, support) for each label seen.
    pub fn scores(&self) -> Vec<(String, f64, f64, f64, usize)> {
        self.counts
            .iter()
            .map(|(l, &(tp, pred, exp))| {
                let p = if pred > 0 { tp as f64 / pred as f64 } else { 0.0 };
                let r = if exp > 0 { tp as f64 / exp as f64 } else { 0.0 };
                let f = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
                (l.clone(), p, r, f, exp)
            })
            .collect()
    }

    /// Mean F1 over the labels that occur in the ground truth.
    pub fn macro_f1(&self) -> f64 {
        let s: Vec<f64> = self.scores().into_iter().filter(|x| x.4 > 0).map(|x| x.3).collect();
        if s.is_empty() {
            0.0
        } else {
            s.iter().sum::<f64>() / s.len() as f64
        }
    }
}

/// Kendall's tau-b-free simple tau between the order of `ranks` and 0..n (ties count as
/// neither concordant nor discordant). O(n^2), fine for a page's words.
pub fn kendall_tau(ranks: &[usize]) -> f64 {
    let n = ranks.len();
    if n < 2 {
        return 1.0;
    }
    let (mut concordant, mut discordant) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            match ranks[i].cmp(&ranks[j]) {
                std::cmp::Ordering::Less => concordant += 1,
                std::cmp::Ordering::Greater => discordant += 1,
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    (concordant - discordant) as f64 / (n * (n - 1) / 2) as f64
}

/// One image's boxes of one class.
pub struct ImageBoxes {
    pub truth: Vec<[f32; 4]>,
    /// (score, box)
    pub predicted: Vec<(f32, [f32; 4])>,
}

/// COCO average precision at an IoU threshold (101-point interpolated precision).
pub fn average_precision(images: &[ImageBoxes], threshold: f32) -> f64 {
    let total: usize = images.iter().map(|i| i.truth.len()).sum();
    if total == 0 {
        return 0.0;
    }
    let mut preds: Vec<(f32, usize, [f32; 4])> =
        images.iter().enumerate().flat_map(|(k, i)| i.predicted.iter().map(move |(s, b)| (*s, k, *b))).collect();
    preds.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut used: Vec<Vec<bool>> = images.iter().map(|i| vec![false; i.truth.len()]).collect();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut curve = Vec::with_capacity(preds.len());
    for (_, k, b) in preds {
        let best = images[k]
            .truth
            .iter()
            .enumerate()
            .filter(|(t, _)| !used[k][*t])
            .map(|(t, g)| (t, iou(&b, g)))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        match best {
            Some((t, v)) if v >= threshold => {
                used[k][t] = true;
                tp += 1;
            }
            _ => fp += 1,
        }
        curve.push((tp as f64 / total as f64, tp as f64 / (tp + fp) as f64));
    }
    // Precision made monotone from the right, sampled at recall 0, 0.01, ..., 1.
    let mut best_after = vec![0.0; curve.len()];
    let mut m: f64 = 0.0;
    for i in (0..curve.len()).rev() {
        m = m.max(curve[i].1);
        best_after[i] = m;
    }
    (0..=100)
        .map(|r| {
            let r = r as f64 / 100.0;
            curve.iter().position(|c| c.0 >= r - 1e-12).map_or(0.0, |i| best_after[i])
        })
        .sum::<f64>()
        / 101.0
}

pub use pagewise_engine::read::edit_distance;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_of_same_reversed_and_swapped_orders() {
        assert_eq!(kendall_tau(&[0, 1, 2, 3]), 1.0);
        assert_eq!(kendall_tau(&[3, 2, 1, 0]), -1.0);
        assert!((kendall_tau(&[1, 0, 2, 3]) - (4.0 / 6.0)).abs() < 1e-9);
    }

    #[test]
    fn f1_counts_hits_misses_and_false_alarms() {
        let mut c = LabelCounts::default();
        c.add("title", Some("title"));
        c.add("title", Some("paragraph"));
        c.add("paragraph", Some("paragraph"));
        let s = c.scores();
        let title = s.iter().find(|x| x.0 == "title").unwrap();
        assert_eq!((title.1, title.2), (1.0, 0.5));
        let para = s.iter().find(|x| x.0 == "paragraph").unwrap();
        assert_eq!((para.1, para.2), (0.5, 1.0));
    }

    #[test]
    fn ap_is_one_for_perfect_boxes_and_lower_with_a_false_alarm_first() {
        let b = [0.0, 0.0, 10.0, 10.0];
        let perfect = [ImageBoxes { truth: vec![b], predicted: vec![(0.9, b)] }];
        assert!((average_precision(&perfect, 0.5) - 1.0).abs() < 1e-9);
        let noisy = [ImageBoxes { truth: vec![b], predicted: vec![(0.95, [50.0, 50.0, 60.0, 60.0]), (0.9, b)] }];
        let ap = average_precision(&noisy, 0.5);
        assert!(ap > 0.4 && ap < 0.6, "{ap}");
    }
}
