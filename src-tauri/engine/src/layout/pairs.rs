//! Form key-values on pages read from pixels: which text is a key ("Date:", "Division", "Name
//! of account") and which text is its value (right of it on its row, below it, further along),
//! chosen by a model fitted on filled forms (`pagewise-dev fit-pairs`, docs/quality.md) rather
//! than by rules. The page's lines are cut into pieces (`pieces.rs`); every piece may be a key,
//! its nearest pieces to the right and below may be its value, and a conditional logit over
//! geometry and text shape gives each the chance that it is the key's value, beside the chance
//! that the piece is no key at all. The weights are a small file, `assets/ranking/pairs.json`,
//! compiled in. A question that names a key asks the same model for that key's value
//! ([`named_values`]).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::pieces::{piece, pieces, Piece};
use crate::fitted::Logistic;
use crate::model::{BBox, KeyValue, Page};

/// What each feature is, in order; a weights file fitted with other features is not used.
pub const FEATURES: [&str; 22] = [
    "key ends with a colon",
    "key words (log)",
    "key share of digits",
    "key share of capitals",
    "key starts its line",
    "value ends with a colon",
    "value words (log)",
    "value share of digits",
    "value share of capitals",
    "value on the key's row, right of it",
    "value below the key",
    "gap along the row (key heights)",
    "gap down (key heights)",
    "left edges apart (key heights)",
    "value's left edge within the key's span",
    "rank among the key's candidates by distance (1 / (1 + rank))",
    "key's rank among the pieces the value is a candidate of (1 / (1 + rank))",
    "value's height over the key's",
    "key's top (share of the page height)",
    "key's left (share of the page width)",
    "pieces between them",
    "value is the key's nearest piece on its row",
];
pub const N: usize = FEATURES.len();

/// Candidate values per key: the nearest pieces right of it and below it.
const CANDIDATES: usize = 12;

/// The weights file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PairModel {
    pub version: u32,
    pub features: Vec<String>,
    pub model: Option<Logistic>,
    /// A key-value is kept when its chance is at least this (chosen by cross-validation).
    pub threshold: f32,
    /// Sets, documents and keys it was fitted on (for the README and the curious).
    pub sets: Vec<String>,
    pub documents: usize,
    pub keys: usize,
}

const BUNDLED_JSON: &str = include_str!("../../../../assets/ranking/pairs.json");

static BUNDLED: LazyLock<PairModel> = LazyLock::new(|| {
    let m: PairModel = serde_json::from_str(BUNDLED_JSON).unwrap_or_default();
    // Fitted on other features: no key-values rather than wrong ones (a unit test keeps the file in step).
    let sound = m.features == FEATURES && m.model.as_ref().is_some_and(|l| l.is_sound(N));
    if sound {
        m
    } else {
        PairModel::default()
    }
});

impl PairModel {
    /// The model compiled into this build.
    pub fn bundled() -> &'static PairModel {
        &BUNDLED
    }

    /// A hash of the compiled-in weights file: layouts stored under another were found by other
    /// weights, and are analysed again.
    pub fn bundled_fingerprint() -> u32 {
        // Hashed once: every stored value or layout looked up asks for it.
        static FINGERPRINT: LazyLock<u32> = LazyLock::new(|| crate::fitted::fingerprint(BUNDLED_JSON));
        *FINGERPRINT
    }
}

/// A piece as a possible key: its possible values (indices into the pieces), nearest first,
/// with each one's features.
#[derive(Debug, Clone)]
pub struct KeyCandidates {
    pub key: usize,
    pub values: Vec<usize>,
    pub features: Vec<Vec<f32>>,
}

/// Where `v` lies from `k`: on its row to the right, or below it within reach; with how far
/// (in key heights) for ranking.
fn reach(k: &BBox, v: &BBox) -> Option<(bool, f32)> {
    let h = k.height().max(1.0);
    let same_row = k.v_overlap(v) >= 0.4 * h.min(v.height().max(1.0));
    if same_row && v.x0 >= k.x1 - 0.3 * h && v.x0 - k.x1 <= 40.0 * h {
        return Some((true, (v.x0 - k.x1).max(0.0) / h));
    }
    let below = v.y0 >= k.y1 - 0.3 * h && v.y0 - k.y1 <= 8.0 * h;
    if below && v.x0 < k.x1 + 10.0 * h && v.x1 > k.x0 - 3.0 * h {
        return Some((false, (v.y0 - k.y1).max(0.0) / h + 0.3 * (v.x0 - k.x0).abs() / h));
    }
    None
}

/// Every piece as a possible key, with its nearest possible values and their features.
pub fn candidates(page: &Page, pieces: &[Piece]) -> Vec<KeyCandidates> {
    let near: Vec<Vec<(usize, bool, f32)>> = pieces
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut c: Vec<(usize, bool, f32)> = pieces
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .filter_map(|(j, v)| reach(&k.bbox, &v.bbox).map(|(row, d)| (j, row, d)))
                .collect();
            c.sort_by(|a, b| a.2.total_cmp(&b.2));
            c.truncate(CANDIDATES);
            c
        })
        .collect();
    // How each value ranks its keys: by distance among the pieces that reach it.
    let mut keys_of: Vec<Vec<f32>> = vec![Vec::new(); pieces.len()];
    for c in &near {
        for &(j, _, d) in c {
            keys_of[j].push(d);
        }
    }
    keys_of.iter_mut().for_each(|d| d.sort_by(f32::total_cmp));
    near.iter()
        .enumerate()
        .map(|(i, c)| {
            let k = &pieces[i];
            let nearest_on_row = c.iter().find(|x| x.1).map(|x| x.0);
            let features = c
                .iter()
                .enumerate()
                .map(|(rank, &(j, row, d))| {
                    let v = &pieces[j];
                    let key_rank = keys_of[j].partition_point(|&x| x < d);
                    let between = pieces_between(pieces, i, j, row);
                    pair_features(page, k, v, row, rank, key_rank, between, nearest_on_row == Some(j))
                })
                .collect();
            KeyCandidates { key: i, values: c.iter().map(|x| x.0).collect(), features }
        })
        .collect()
}

/// Pieces lying between a key and its candidate value: along the row, or down the column.
fn pieces_between(pieces: &[Piece], k: usize, v: usize, row: bool) -> usize {
    let (a, b) = (&pieces[k].bbox, &pieces[v].bbox);
    pieces
        .iter()
        .enumerate()
        .filter(|&(j, p)| {
            let c = p.bbox.center();
            j != k
                && j != v
                && if row {
                    c.0 > a.x1 && c.0 < b.x0 && c.1 > a.y0.min(b.y0) && c.1 < a.y1.max(b.y1)
                } else {
                    c.1 > a.y1 && c.1 < b.y0 && p.bbox.h_overlap(b) > 0.0
                }
        })
        .count()
}

#[allow(clippy::too_many_arguments)]
fn pair_features(
    page: &Page,
    k: &Piece,
    v: &Piece,
    row: bool,
    rank: usize,
    key_rank: usize,
    between: usize,
    nearest_on_row: bool,
) -> Vec<f32> {
    let h = k.bbox.height().max(1.0);
    let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
    let (ks, vs) = (shape(&k.text), shape(&v.text));
    vec![
        flag(k.text.ends_with(':')),
        ks.words,
        ks.digits,
        ks.capitals,
        flag(k.starts_line),
        flag(v.text.ends_with(':')),
        vs.words,
        vs.digits,
        vs.capitals,
        flag(row),
        flag(!row),
        if row { ((v.bbox.x0 - k.bbox.x1) / h).clamp(0.0, 40.0) } else { 0.0 },
        if row { 0.0 } else { ((v.bbox.y0 - k.bbox.y1) / h).clamp(0.0, 8.0) },
        ((v.bbox.x0 - k.bbox.x0).abs() / h).min(20.0),
        flag(v.bbox.x0 >= k.bbox.x0 - 0.5 * h && v.bbox.x0 <= k.bbox.x1),
        1.0 / (1.0 + rank as f32),
        1.0 / (1.0 + key_rank as f32),
        (v.bbox.height() / h).clamp(0.0, 6.0),
        (k.bbox.y0 / page.height.max(1.0)).clamp(0.0, 1.0),
        (k.bbox.x0 / page.width.max(1.0)).clamp(0.0, 1.0),
        (between as f32).min(5.0),
        flag(nearest_on_row),
    ]
}

struct Shape {
    words: f32,
    digits: f32,
    capitals: f32,
}

fn shape(text: &str) -> Shape {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    let capitals = text.chars().filter(|c| c.is_uppercase()).count();
    Shape {
        words: (1.0 + text.split_whitespace().count() as f32).ln(),
        digits: digits as f32 / (letters + digits).max(1) as f32,
        capitals: capitals as f32 / letters.max(1) as f32,
    }
}

/// The page's key-values by `model` (none without one), at least `threshold` likely each.
pub fn find(page: &Page, model: &PairModel) -> Vec<KeyValue> {
    let Some(logistic) = &model.model else { return Vec::new() };
    let pieces = pieces(page);
    let cands = candidates(page, &pieces);
    let chances: Vec<Vec<f32>> = cands.iter().map(|c| logistic.choice(&c.features)).collect();
    decode(&pieces, &cands, &chances, model.threshold)
}

/// The values of the keys a question names, `named(text)` saying how well a piece names the
/// key asked for (0 to 1; kept from `min`). The key is known, so each piece that names it is a
/// key and its likeliest candidate is its value, as likely as the model makes it among the
/// candidates; a piece that starts with the key and goes on ("Date Ordered Unknown", read as
/// one) is cut after the key first. The value is that one piece: run on over the lines below
/// as [`decode`]'s are, it took the next rows' values too (FUNSD questions 19.5 % exact without,
/// 17.0 % with, 18.5 % running on only into lines the page's own pairs leave).
pub fn named_values(page: &Page, model: &PairModel, named: &dyn Fn(&str) -> f32, min: f32) -> Vec<(KeyValue, f32)> {
    let Some(logistic) = &model.model else { return Vec::new() };
    let mut pieces = pieces(page);
    let mut matched: Vec<f32> = Vec::with_capacity(pieces.len());
    for i in 0..pieces.len() {
        let (whole, cut) = (named(&pieces[i].text), best_key_prefix(page, &pieces[i], named));
        match cut {
            Some((n, m)) if m >= min && m > whole => {
                let (key, rest) = pieces[i].words.split_at(n);
                let (key, rest) = (key.to_vec(), rest.to_vec());
                let block = pieces[i].block;
                pieces[i] = piece(page, key, pieces[i].starts_line, block);
                pieces.push(piece(page, rest, false, block));
                matched.push(m);
            }
            _ => matched.push(whole),
        }
    }
    matched.resize(pieces.len(), 0.0);
    let cands = candidates(page, &pieces);
    let chances: Vec<Vec<f32>> = cands.iter().map(|c| logistic.choice(&c.features)).collect();
    (0..pieces.len())
        .filter(|&i| matched[i] >= min)
        .filter_map(|k| {
            // A label ending with a colon is another key, never this one's value.
            let p = &chances[k];
            let (at, &chance) = p
                .iter()
                .enumerate()
                .filter(|&(at, _)| !pieces[cands[k].values[at]].text.ends_with(':'))
                .max_by(|a, b| a.1.total_cmp(b.1))?;
            let v = cands[k].values[at];
            // Given that the piece is a key (the question says so): its chance among the values.
            let sure = chance / p.iter().sum::<f32>().max(1e-6);
            Some((key_value(&pieces, k, &[v], sure), matched[k]))
        })
        .collect()
}

/// The longest run of a piece's first words (not all of them) that names a key, and how well.
fn best_key_prefix(page: &Page, p: &Piece, named: &dyn Fn(&str) -> f32) -> Option<(usize, f32)> {
    let mut text = String::new();
    let mut best: Option<(usize, f32)> = None;
    for (n, &w) in p.words.iter().enumerate().take(p.words.len().saturating_sub(1)) {
        if n > 0 {
            text.push(' ');
        }
        text.push_str(&page.words[w as usize].text);
        let m = named(&text);
        if m > 0.0 && best.is_none_or(|(_, b)| m >= b) {
            best = Some((n + 1, m));
        }
    }
    best
}

fn key_value(pieces: &[Piece], k: usize, value: &[usize], confidence: f32) -> KeyValue {
    KeyValue {
        key: pieces[k].text.trim_end_matches(':').trim().to_string(),
        value: value.iter().map(|&i| pieces[i].text.as_str()).collect::<Vec<_>>().join(" "),
        key_bbox: pieces[k].bbox,
        value_bbox: value.iter().skip(1).fold(pieces[value[0]].bbox, |b, &i| b.union(&pieces[i].bbox)),
        confidence,
    }
}

/// Key-values from each key's chances: the likeliest first, a piece in one pair only (as a key
/// or a value); then each value runs on over the lines of its block below it.
pub fn decode(pieces: &[Piece], cands: &[KeyCandidates], chances: &[Vec<f32>], threshold: f32) -> Vec<KeyValue> {
    let mut best: Vec<(usize, usize, f32)> = cands
        .iter()
        .zip(chances)
        .filter_map(|(c, p)| {
            let (at, &chance) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
            (chance >= threshold).then_some((c.key, c.values[at], chance))
        })
        .collect();
    best.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut used = vec![false; pieces.len()];
    let keys: Vec<bool> = (0..pieces.len()).map(|i| best.iter().any(|b| b.0 == i)).collect();
    // Every pair first: a value's next line may be the next key's value.
    let mut chosen: Vec<(usize, Vec<usize>, f32)> = Vec::new();
    for (k, v, chance) in best {
        if !used[k] && !used[v] {
            used[k] = true;
            used[v] = true;
            chosen.push((k, vec![v], chance));
        }
    }
    for (_, value, _) in &mut chosen {
        while let Some(next) = continuation(pieces, *value.last().expect("a value"), &used, &keys) {
            used[next] = true;
            value.push(next);
        }
    }
    chosen.into_iter().map(|(k, value, chance)| key_value(pieces, k, &value, chance)).collect()
}

/// The piece on the next line of a value's block: just below it, starting its line where the
/// value starts, in the same block, and neither in a pair nor a label.
fn continuation(pieces: &[Piece], last: usize, used: &[bool], keys: &[bool]) -> Option<usize> {
    let b = pieces[last].bbox;
    let h = b.height().max(1.0);
    (0..pieces.len()).find(|&j| {
        let p = &pieces[j];
        !used[j]
            && !keys[j]
            && p.starts_line
            && p.block == pieces[last].block
            && !p.text.ends_with(':')
            && p.bbox.y0 >= b.y1 - 0.3 * h
            && p.bbox.y0 - b.y1 <= 0.5 * h
            && (p.bbox.x0 - b.x0).abs() <= 1.0 * h
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Line, PageSource, Word};

    /// A scanned form: each line its top and its (text, x) words, 10 points high, words 6 points
    /// wide per letter; a line less than 15 points below the one before is in its block.
    pub(crate) fn form(lines: &[(f32, &[(&str, f32)])]) -> Page {
        let (mut words, mut out): (Vec<Word>, Vec<Line>) = (Vec::new(), Vec::new());
        for &(y, ws) in lines {
            let ids: Vec<u32> = ws
                .iter()
                .map(|&(t, x)| {
                    let bbox = BBox::new(x, y, x + 6.0 * t.chars().count() as f32, y + 10.0);
                    words.push(Word { text: t.into(), bbox, size: 0.0, bold: false });
                    words.len() as u32 - 1
                })
                .collect();
            let bbox = ids.iter().map(|&w| words[w as usize].bbox).reduce(|a: BBox, b| a.union(&b)).unwrap();
            let block = match out.last() {
                Some(prev) if y - prev.bbox.y0 < 15.0 && y > prev.bbox.y0 => prev.block,
                Some(prev) => prev.block + 1,
                None => 0,
            };
            out.push(Line { words: ids, bbox, block });
        }
        Page::of_words(PageSource::Ocr, words, out)
    }

    #[test]
    fn candidates_are_right_on_the_row_or_below() {
        let page = form(&[
            (100.0, &[("Date:", 50.0), ("5/6/93", 100.0)]),
            (120.0, &[("Division", 50.0)]),
            (140.0, &[("Sales", 52.0)]),
            (100.0, &[("Left", 0.0)]),
        ]);
        let p = pieces(&page);
        let c = candidates(&page, &p);
        let date = c.iter().find(|k| p[k.key].text == "Date:").unwrap();
        let values: Vec<&str> = date.values.iter().map(|&v| p[v].text.as_str()).collect();
        assert!(values.contains(&"5/6/93") && values.contains(&"Division"), "{values:?}");
        assert!(!values.contains(&"Left") && !values.contains(&"Date:"), "{values:?}");
        assert!(c.iter().all(|k| k.features.iter().all(|x| x.len() == N && x.iter().all(|v| v.is_finite()))));
    }

    #[test]
    fn decoding_takes_the_likeliest_pairs_each_piece_once_and_runs_values_on() {
        let page = form(&[
            (100.0, &[("Address:", 50.0), ("12", 120.0), ("Main", 140.0), ("St", 170.0)]),
            (112.0, &[("Springfield", 120.0)]),
            (140.0, &[("Phone:", 50.0), ("555", 120.0)]),
        ]);
        let p = pieces(&page);
        let c = candidates(&page, &p);
        // Each key's first candidate is right; "Address:" also wants "555" a little.
        let chances: Vec<Vec<f32>> = c
            .iter()
            .map(|k| {
                let mut ch = vec![0.0; k.values.len()];
                if p[k.key].text.ends_with(':') {
                    ch[0] = 0.8;
                }
                ch
            })
            .collect();
        let kv = decode(&p, &c, &chances, 0.5);
        let got: Vec<(&str, &str)> = kv.iter().map(|k| (k.key.as_str(), k.value.as_str())).collect();
        assert_eq!(got, [("Address", "12 Main St Springfield"), ("Phone", "555")]);
        assert_eq!(kv[0].confidence, 0.8);
        assert!(decode(&p, &c, &chances, 0.9).is_empty());

        // The next row's value, just below and aligned, is that row's, not a run-on.
        let page = form(&[
            (100.0, &[("Address:", 50.0), ("12", 120.0), ("Main", 140.0), ("St", 170.0)]),
            (112.0, &[("Phone:", 50.0), ("555", 120.0)]),
        ]);
        let p = pieces(&page);
        let c = candidates(&page, &p);
        let chances: Vec<Vec<f32>> = c
            .iter()
            .map(|k| {
                let right = |v: &usize| p[*v].bbox.v_overlap(&p[k.key].bbox) > 0.0;
                let on = p[k.key].text.ends_with(':');
                k.values.iter().map(|v| if on && right(v) { 0.8 } else { 0.0 }).collect()
            })
            .collect();
        let got: Vec<(String, String)> = decode(&p, &c, &chances, 0.5).into_iter().map(|k| (k.key, k.value)).collect();
        assert_eq!(got, [("Address".to_string(), "12 Main St".to_string()), ("Phone".into(), "555".into())]);
    }

    #[test]
    fn a_named_key_gets_its_likeliest_value_even_when_read_into_one_piece_with_it() {
        let page = form(&[
            (100.0, &[("Date", 50.0), ("Ordered", 80.0), ("Unknown", 128.0)]),
            (140.0, &[("Division", 50.0)]),
            (152.0, &[("San", 50.0), ("Jose", 72.0)]),
            (190.0, &[("Remarks:", 50.0)]),
        ]);
        let named = |asked: &'static [&'static str]| {
            move |text: &str| {
                let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
                let shared = words.iter().filter(|w| asked.contains(&w.as_str())).count();
                shared as f32 / (words.len() + asked.len() - shared).max(1) as f32
            }
        };
        let found = named_values(&page, PairModel::bundled(), &named(&["date", "ordered"]), 0.5);
        let got: Vec<(&str, &str)> = found.iter().map(|(k, _)| (k.key.as_str(), k.value.as_str())).collect();
        assert_eq!(got, [("Date Ordered", "Unknown")]);
        assert!(found[0].1 == 1.0 && found[0].0.confidence > 0.0 && found[0].0.confidence <= 1.0);
        let found = named_values(&page, PairModel::bundled(), &named(&["division"]), 0.5);
        let got: Vec<(&str, &str)> = found.iter().map(|(k, _)| (k.key.as_str(), k.value.as_str())).collect();
        assert_eq!(got, [("Division", "San Jose")]);
        assert!(named_values(&page, PairModel::bundled(), &named(&["telephone"]), 0.5).is_empty());
    }

    #[test]
    fn the_bundled_model_pairs_a_form_and_its_weights_are_in_step() {
        let m: PairModel = serde_json::from_str(BUNDLED_JSON).unwrap();
        assert_eq!(m.features, FEATURES, "refit: pagewise-dev fit-pairs (docs/quality.md)");
        assert!(m.model.as_ref().is_some_and(|l| l.is_sound(N)) && m.threshold > 0.0 && m.documents > 0);
        let page = form(&[
            (100.0, &[("DATE:", 50.0), ("May", 110.0), ("6,", 134.0), ("1993", 152.0)]),
            (140.0, &[("TO:", 50.0), ("J.", 110.0), ("Smith", 128.0)]),
            (180.0, &[("SUBJECT:", 50.0), ("Sales", 110.0), ("meeting", 146.0)]),
        ]);
        let found = find(&page, PairModel::bundled());
        let got: Vec<(&str, &str)> = found.iter().map(|k| (k.key.as_str(), k.value.as_str())).collect();
        assert!(got.contains(&("DATE", "May 6, 1993")) && got.contains(&("TO", "J. Smith")), "{got:?}");
        assert!(found.iter().all(|k| k.confidence >= m.threshold && k.confidence <= 1.0));
    }
}
