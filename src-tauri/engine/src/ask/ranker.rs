//! The fitted ranking of answer candidates. The extractive answerer's cues (labels beside a
//! value, priors, shapes) give each candidate a hand score; this stage turns that score and
//! features any document has (place on the page and in the document, type size, the layout
//! region around it, how often it is printed, its rank among its rivals) into the probability
//! that the candidate is the answer, with a logistic model per kind of question fitted on the
//! training sets (`pagewise-dev fit-ranker`, docs/quality.md): for a single value a conditional
//! logit with boosted trees where features act together. The model is a small file,
//! `assets/ranking/fields.json`, compiled in. A question whose model did not beat the hand scores
//! keeps their order and what they give, but not their numbers: a calibration fitted beside the
//! models turns the hand score of a single value into the chance of being right (a logistic of
//! the score alone, rising, through `FOUND` at `FOUND`). Either way the probability is the
//! answer's confidence: it means what it says. A kind of question the training sets never asked,
//! or a list's items, keep their hand scores.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

use super::labels::PageText;
use super::question::Question;
use super::{Candidate, FOUND};
pub use crate::fitted::Logistic;
use crate::model::{BBox, Label};

/// What each feature is, in order; a weights file fitted with other features is not used.
pub const FEATURES: [&str; 20] = [
    "hand score",
    "hand rank (1 / (1 + rank))",
    "margin over the best rival's hand score",
    "found beside a label",
    "top of its box (share of the page height)",
    "left of its box (share of the page width)",
    "width of its box (share of the page width)",
    "type size (box height over the page's line height)",
    "place of its page in the document (0 first, 1 last)",
    "on the first page",
    "words (log)",
    "lines",
    "share of digits",
    "share of capitals",
    "times printed (log)",
    "size rank among the numbers found (1 / (1 + rank))",
    "place in reading order among the candidates (0 first, 1 last)",
    "in a table",
    "in a title or heading",
    "in a page header or footer",
];
pub const N: usize = FEATURES.len();
pub type Features = [f32; N];

/// One fitted model and what it was fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fitted {
    pub model: Logistic,
    /// A choice among the candidates (or none of them: a single value), scored by a softmax over
    /// them and "none"; else each candidate on its own (the items of a list).
    pub choice: bool,
    /// Training sets, documents and candidates it saw (for the README and the curious).
    pub sets: Vec<String>,
    pub documents: usize,
    pub candidates: usize,
}

/// The weights file: a model per question kind ([`model_key`]), and a calibration of the hand
/// scores per kind of single-valued question that keeps them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ranker {
    pub version: u32,
    pub features: Vec<String>,
    pub models: BTreeMap<String, Fitted>,
    /// `P(right | hand score)`: one feature, its weight positive, through `FOUND` at `FOUND`.
    #[serde(default)]
    pub calibrations: BTreeMap<String, Logistic>,
}

const BUNDLED_JSON: &str = include_str!("../../../../assets/ranking/fields.json");

static BUNDLED: LazyLock<Arc<Ranker>> = LazyLock::new(|| {
    let r: Ranker = serde_json::from_str(BUNDLED_JSON).unwrap_or_default();
    // Fitted on other features: the hand scores stay (a unit test keeps the file in step).
    Arc::new(if r.features != FEATURES { Ranker::default() } else { r })
});

impl Ranker {
    /// The models compiled into this build.
    pub fn bundled() -> Arc<Ranker> {
        BUNDLED.clone()
    }

    /// A hash of the compiled-in weights file: field values stored under another were found by
    /// other weights, and are found again.
    pub fn bundled_fingerprint() -> u32 {
        // Hashed once: every stored value or layout looked up asks for it.
        static FINGERPRINT: LazyLock<u32> = LazyLock::new(|| crate::fitted::fingerprint(BUNDLED_JSON));
        *FINGERPRINT
    }

    /// A calibration is used only where it keeps the hand scores' order and what they give
    /// (rising, through `FOUND` at `FOUND`).
    pub fn calibration(&self, key: &str) -> Option<&Logistic> {
        let keeps =
            |c: &&Logistic| c.is_sound(1) && c.weights[0] > 0.0 && (c.probability(&[FOUND]) - FOUND).abs() < 1e-3;
        self.calibrations.get(key).filter(keeps)
    }
}

/// The kind of question a model answers, on the kind of pages it was fitted on: how the pages
/// were read (a text layer or OCR: scanned receipts teach nothing about digital invoices), what
/// is asked for, and the most specific label group the question names ("text/date/effective",
/// "ocr/money/total", "text/name/parties").
pub fn model_key(q: &Question, pages: &[PageText]) -> String {
    let read = pages.iter().filter(|p| p.page.source.read_from_pixels()).count();
    let source = if 2 * read > pages.len() { "ocr" } else { "text" };
    format!("{source}/{}/{}", q.target.as_str(), q.roles.last().map_or("-", String::as_str))
}

/// Scores that are probabilities: of each candidate on its own, or (a choice) a softmax over
/// the candidates and "none of them".
pub fn probabilities(fitted: &Fitted, features: &[Features]) -> Vec<f32> {
    if !fitted.choice {
        return features.iter().map(|x| fitted.model.probability(x)).collect();
    }
    fitted.model.choice(features)
}

/// The features of each of a question's candidates (all of them, from every page, before
/// equal values are merged: how often a value is printed is one of them).
pub fn features(all: &[Candidate], pages: &[PageText]) -> Vec<Features> {
    let mut scores: Vec<f32> = all.iter().map(|c| c.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    // Sorted best first: a rank is how many score higher (binary search: a 300-page contract
    // has thousands of dates).
    let rank_of = |s: f32| scores.partition_point(|&x| x > s);
    let mut printed: HashMap<String, usize> = HashMap::new();
    for c in all {
        *printed.entry(c.normalized.to_lowercase()).or_default() += 1;
    }
    let number = |c: &Candidate| c.normalized.parse::<f64>().ok().filter(|v| v.is_finite());
    let mut numbers: Vec<f64> = all.iter().filter_map(number).collect();
    numbers.sort_by(|a, b| b.total_cmp(a));
    let mut reading: Vec<usize> = (0..all.len()).collect();
    let first_box = |c: &Candidate| c.boxes.first().map_or((0.0, 0.0), |b| (b.y0, b.x0));
    reading.sort_by(|&a, &b| {
        (all[a].page, first_box(&all[a]).0, first_box(&all[a]).1)
            .partial_cmp(&(all[b].page, first_box(&all[b]).0, first_box(&all[b]).1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut reading_place = vec![0.0f32; all.len()];
    for (k, &i) in reading.iter().enumerate() {
        reading_place[i] = k as f32 / (all.len().max(2) - 1) as f32;
    }
    let last_page = pages.len().max(2) - 1;
    all.iter()
        .enumerate()
        .map(|(i, c)| {
            let best_rival = if c.score >= scores[0] { scores.get(1).copied().unwrap_or(0.0) } else { scores[0] };
            let (page_index, pt) =
                pages.iter().enumerate().find(|(_, p)| p.page.page == c.page).map_or((0, None), |(k, p)| (k, Some(p)));
            let b = c.boxes.first().copied().unwrap_or(BBox::new(0.0, 0.0, 0.0, 0.0));
            let (w, h, line) = pt.map_or((1.0, 1.0, 1.0), |p| (p.page.width, p.page.height, p.line_height));
            let region = pt
                .and_then(|p| p.layout)
                .and_then(|l| l.regions.iter().find(|r| r.bbox.contains_point(b.center())).map(|r| r.label));
            let letters = c.text.chars().filter(|ch| ch.is_alphabetic()).count();
            let capitals = c.text.chars().filter(|ch| ch.is_uppercase()).count();
            let digits = c.text.chars().filter(|ch| ch.is_ascii_digit()).count();
            let size_rank = number(c).map_or(0.0, |v| 1.0 / (1.0 + numbers.partition_point(|&x| x > v) as f32));
            let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
            [
                c.score,
                1.0 / (1.0 + rank_of(c.score) as f32),
                c.score - best_rival,
                flag(c.label.is_some()),
                (b.y0 / h.max(1.0)).clamp(0.0, 1.0),
                (b.x0 / w.max(1.0)).clamp(0.0, 1.0),
                (b.width() / w.max(1.0)).clamp(0.0, 1.0),
                (b.height() / line.max(1.0)).clamp(0.0, 6.0),
                page_index as f32 / last_page as f32,
                flag(page_index == 0),
                (1.0 + c.text.split_whitespace().count() as f32).ln(),
                c.boxes.len() as f32,
                digits as f32 / (letters + digits).max(1) as f32,
                capitals as f32 / letters.max(1) as f32,
                (printed[&c.normalized.to_lowercase()] as f32).ln(),
                size_rank,
                reading_place[i],
                flag(region == Some(Label::Table)),
                flag(matches!(region, Some(Label::Title | Label::SectionHeader))),
                flag(matches!(region, Some(Label::PageHeader | Label::PageFooter))),
            ]
        })
        .collect()
}

impl Ranker {
    /// The candidates scored by the question's fitted model, where there is one (a value printed
    /// more than once is as likely as its copies together); else their hand scores calibrated,
    /// where the training sets asked such questions.
    pub fn rescore(&self, all: &mut [Candidate], pages: &[PageText], q: &Question) {
        let key = model_key(q, pages);
        let Some(fitted) = self.models.get(&key) else {
            if let Some(calibration) = self.calibration(&key) {
                all.iter_mut().for_each(|c| c.score = calibration.probability(&[c.score]));
            }
            return;
        };
        let p = probabilities(fitted, &features(all, pages));
        let mut by_value: HashMap<String, f32> = HashMap::new();
        for (c, p) in all.iter().zip(&p) {
            *by_value.entry(c.normalized.to_lowercase()).or_default() += p;
        }
        for c in all.iter_mut() {
            c.score = by_value[&c.normalized.to_lowercase()].min(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_weights_use_these_features() {
        let r: Ranker = serde_json::from_str(BUNDLED_JSON).unwrap();
        assert_eq!(r.features, FEATURES, "refit: pagewise-dev fit-ranker (docs/quality.md)");
        for (key, f) in &r.models {
            assert!(f.model.is_sound(N), "{key}");
            assert_eq!(key.split('/').count(), 3, "{key}");
        }
        for key in r.calibrations.keys() {
            assert!(r.calibration(key).is_some() && !r.models.contains_key(key), "{key}");
        }
    }

    #[test]
    fn a_calibration_turns_hand_scores_into_chances_and_keeps_their_order() {
        use crate::ask::tests::page_of_rows;
        use crate::ask::{Answerer, Extractive};
        use crate::embed::Meaning;
        let page = page_of_rows(&["Effective Date: 1 March 2020", "Signed on 2 April 2020"]);
        let pages = [PageText::new(&page, None, crate::values::Locale::default())];
        let q = Question::for_target("What is the effective date?", crate::model::Target::Date);
        let mut answerer = Extractive::new(Meaning::lexical_only());
        answerer.ranker = Arc::new(Ranker::default());
        let by_hand = answerer.answer(&pages, &q);
        let calibration = |weight: f32| Logistic {
            mean: vec![FOUND],
            scale: vec![1.0],
            weights: vec![weight],
            bias: (0.3f32 / 0.7).ln(),
            trees: Vec::new(),
        };
        let mut ranker = Ranker::default();
        ranker.calibrations.insert(model_key(&q, &pages), calibration(0.5));
        answerer.ranker = Arc::new(ranker.clone());
        let calibrated = answerer.answer(&pages, &q);
        assert_eq!(calibrated.answer, by_hand.answer, "the same value wins");
        let order = |a: &crate::model::Answer| a.guesses.iter().map(|g| g.answer.clone()).collect::<Vec<_>>();
        assert_eq!(order(&calibrated), order(&by_hand));
        let expected = calibration(0.5).probability(&[by_hand.confidence]);
        assert!((calibrated.confidence - expected).abs() < 2e-3, "{} vs {expected}", calibrated.confidence);
        assert!(calibrated.confidence < by_hand.confidence, "an answer sure by hand is less sure calibrated");
        // A falling calibration would turn the order round: it is not used.
        ranker.calibrations.insert(model_key(&q, &pages), calibration(-0.5));
        answerer.ranker = Arc::new(ranker);
        assert_eq!(answerer.answer(&pages, &q).confidence, by_hand.confidence);
    }
}
