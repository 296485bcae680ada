//! Is a predicted value the expected one? Numbers compare as numbers, dates as dates (the
//! ground truth's own format read either way round), text after case, punctuation and spacing
//! are set aside; ANLS gives partial credit for near misses.

pub use pagewise_engine::values::loose;
use pagewise_engine::values::{date_at, parse_number, period_at, Locale};
use serde_json::Value;

use super::metrics::edit_distance;

/// The expected value(s) of one ground-truth answer as text: strings, numbers, lists, and
/// answer objects (`{"main_question": "25098.0", "unit": ...}`).
pub fn expected_texts(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(a) => a.iter().flat_map(expected_texts).collect(),
        Value::Object(o) => {
            ["value", "answer", "main_question"].iter().find_map(|k| o.get(*k)).map(expected_texts).unwrap_or_default()
        }
        _ => vec![],
    }
}

/// An amount without the currency printed before it ("$ 5.00", "RM3.00", "EUR 12,50").
fn amount_text(s: &str) -> &str {
    let t = s.trim().trim_start_matches(['$', '€', '£']).trim();
    let code = t.char_indices().take_while(|(_, c)| c.is_ascii_uppercase()).last().map_or(0, |(i, c)| i + c.len_utf8());
    if (2..=3).contains(&code) && t[code..].trim_start().starts_with(|c: char| c.is_ascii_digit()) {
        return t[code..].trim_start();
    }
    t
}

fn number(s: &str) -> Option<f64> {
    parse_number(amount_text(s))
}

fn dates(s: &str) -> Vec<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    [true, false]
        .iter()
        .filter_map(|&day_first| {
            date_at(&words, Locale { day_first }).filter(|(n, _)| *n == words.len()).map(|(_, d)| d)
        })
        .collect()
}

/// Does the prediction (as printed, and in normal form) match `expected`?
pub fn matches(printed: &str, normalized: &str, expected: &str) -> bool {
    let exp_dates = dates(expected);
    if !exp_dates.is_empty() {
        return exp_dates.iter().any(|d| d == normalized) || loose(printed) == loose(expected);
    }
    let amount = amount_text(expected);
    if let (Some(e), true) =
        (number(expected), amount.chars().any(|c| c.is_ascii_digit()) && !amount.chars().any(char::is_alphabetic))
    {
        return [normalized, printed].iter().filter_map(|p| number(p)).any(|p| (p - e).abs() < 0.005);
    }
    // A duration in its normal form: "12 months" is "1 year".
    let words: Vec<&str> = expected.split_whitespace().collect();
    if let Some((_, period)) = period_at(&words).filter(|(n, _)| *n == words.len()) {
        return normalized == period || loose(printed) == loose(expected);
    }
    let e = canonical(expected);
    !e.is_empty() && (canonical(normalized) == e || canonical(printed) == e)
}

/// Text without case, punctuation and spacing, with the spellings of one name made one: legal
/// forms written out or abbreviated ("Incorporated" and "Inc.", "L.L.C." and "LLC", "Limited" and
/// "Ltd."), "&" and "and" (Kleister's party names are normalised so).
fn canonical(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut letters = String::new();
    for w in loose(s).split(' ').filter(|w| !w.is_empty() && *w != "and") {
        // Initials spelt apart ("l l c", "r j") read as one word.
        if w.chars().count() == 1 {
            letters.push_str(w);
            continue;
        }
        if !letters.is_empty() {
            out.push(std::mem::take(&mut letters));
        }
        out.push(
            match w {
                "incorporated" => "inc",
                "limited" => "ltd",
                "corporation" => "corp",
                "company" => "co",
                other => other,
            }
            .to_string(),
        );
    }
    if !letters.is_empty() {
        out.push(letters);
    }
    out.join(" ")
}

/// Average normalised Levenshtein similarity (one answer): 1 - distance/length, 0 below 0.5.
pub fn anls(predicted: &str, expected: &str) -> f64 {
    let (p, e) = (loose(predicted), loose(expected));
    if p.is_empty() && e.is_empty() {
        return 1.0;
    }
    let d = edit_distance(&p, &e) as f64 / p.chars().count().max(e.chars().count()).max(1) as f64;
    if d < 0.5 {
        1.0 - d
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_across_formats() {
        assert!(matches("$279.84", "279.84", "279.84"));
        assert!(matches("03/20/2023", "2023-03-20", "2023-03-20"));
        assert!(matches("25/12/2018", "2018-12-25", "25/12/2018"));
        assert!(matches("06/03/2018", "2018-03-06", "06/03/2018"));
        assert!(matches("JDA Software Group, Inc.", "JDA Software Group, Inc.", "Jda Software Group Inc."));
        assert!(matches("9.00", "9.00", "9.00"));
        assert!(!matches("9.50", "9.50", "9.00"));
        // A currency printed before the expected amount is not part of it (the answer keeps its own).
        assert!(matches("3.00", "3.00", "RM3.00") && matches("68.10", "68.10", "RM 68.10"));
        assert!(matches("12.50", "12.5", "EUR 12.50") && !matches("12.50", "12.5", "RM 13.00"));
        assert!(!matches("A4", "A4", "RMA4"), "a code, not an amount");
        assert!(!matches("Delaware", "Delaware", "New York"));
        assert_eq!(
            expected_texts(&serde_json::json!({"main_question": "25098.0", "unit": "millions"})),
            vec!["25098.0"]
        );
    }

    #[test]
    fn names_and_durations_match_in_their_normal_forms() {
        assert!(matches("Escalade, Incorporated", "Escalade, Incorporated", "Escalade Inc."));
        assert!(matches("Z Capital Partners L.L.C.", "Z Capital Partners L.L.C.", "Z Capital Partners LLC"));
        assert!(matches("Heidrick & Struggles, Inc.", "Heidrick & Struggles, Inc.", "Heidrick and Struggles Inc."));
        assert!(matches("Wynn Resorts, Limited", "Wynn Resorts, Limited", "Wynn Resorts Ltd."));
        assert!(!matches("Wynn Resorts", "Wynn Resorts", "Wynn Resorts Ltd."));
        assert!(matches("twelve (12) months", "1 year", "12 months"));
        assert!(!matches("two years", "2 years", "12 months"));
    }

    #[test]
    fn anls_gives_partial_credit() {
        assert_eq!(anls("Netlify, Inc", "Netlify, Inc."), 1.0);
        assert!(anls("Netlify Inc", "Netlify Incorporated") < 1.0);
        assert_eq!(anls("something else", "Netlify"), 0.0);
    }
}
