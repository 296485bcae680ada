//! Fitting the product's small models on training sets, reproducibly, with k-fold
//! cross-validation by document; each writes a weights file under assets/ranking/ that the
//! product compiles in.
//!
//! - [`fields`]: `fit-ranker`, the ranking of answer candidates for fields and questions.
//! - [`forms`]: `fit-pairs`, the key-values of forms read from pixels.
//! - [`logistic`]: the logistic regression and conditional logit both fit.
//! - [`boost`]: boosted trees that correct a conditional logit where features act together.

mod boost;
pub mod fields;
pub mod forms;
mod logistic;

/// The fold of a document, by a stable hash of its file name: it does not depend on the order
/// sets are read in.
fn fold_of(file: &str, folds: usize) -> usize {
    let hash = file.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    hash as usize % folds
}

/// A weights file's text: pretty JSON, but a list of numbers on one line (a tree's splits and
/// leaves, a model's weights), so the file stays small and its diffs readable.
fn weights_text(value: &impl serde::Serialize) -> String {
    let pretty = serde_json::to_string_pretty(value).expect("weights serialise");
    let lines: Vec<&str> = pretty.lines().collect();
    let number = |l: &str| l.trim().trim_end_matches(',').parse::<f64>().is_ok();
    let mut out = String::with_capacity(pretty.len());
    let mut i = 0;
    while i < lines.len() {
        let run = lines[i + 1..].iter().take_while(|l| number(l)).count();
        let close = lines.get(i + 1 + run).map(|l| l.trim()).filter(|l| l.starts_with(']'));
        match close {
            Some(close) if lines[i].ends_with('[') && run > 0 => {
                let numbers: Vec<&str> =
                    lines[i + 1..=i + run].iter().map(|l| l.trim().trim_end_matches(',')).collect();
                out.push_str(&format!("{}{}{close}\n", lines[i], numbers.join(", ")));
                i += run + 2;
            }
            _ => {
                out.push_str(lines[i]);
                out.push('\n');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn weights_put_lists_of_numbers_on_one_line() {
        let v = serde_json::json!({"weights": [1.5, -2, 3], "names": ["a", "b"], "empty": [], "nested": [[1, 2], [3]]});
        let text = super::weights_text(&v);
        assert!(text.contains("\"weights\": [1.5, -2, 3]"), "{text}");
        assert!(text.contains("\"empty\": []"), "{text}");
        assert!(text.contains("[1, 2]") && text.contains("\"a\",\n"), "{text}");
        assert!(text.ends_with("}\n") && text.contains("\n  \"names\": [\n    \"a\""), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
