//! Meaning for the answerer: labels the lexicon does not know (`Amount to pay` for a total) are
//! found by sentence-embedding similarity to the question's subject, and what questions will
//! compare is embedded ahead of them.

use super::labels::{LabelHit, PageText};
use super::question::Question;
use crate::embed::Meaning;

/// Similarity above which a label is taken to mean the question's subject.
const LABEL_SIMILARITY: f32 = 0.55;

/// Embed what questions about these pages will compare (every line, and the words a line
/// starts with), so that the first question about a document just opened is quick.
pub fn warm(meaning: &mut Meaning, pages: &[PageText], still_wanted: &dyn Fn() -> bool) {
    let mut texts: Vec<String> = Vec::new();
    for pt in pages {
        for line in &pt.lines {
            texts.push(line.printed.join(" "));
            texts.extend(label_span(&line.printed).map(|(_, t)| t));
        }
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Small batches, so that a question gets the embedder in between, and the work stops
    // when the person has moved on to another document.
    for chunk in refs.chunks(16) {
        if !still_wanted() {
            return;
        }
        meaning.embed(chunk);
    }
}

/// Labels found by meaning on lines where the lexicon found none: the words a line starts
/// with, before its first value (or up to a colon), compared with the question's subject.
pub fn label_hits(meaning: &mut Meaning, pt: &PageText, q: &Question, lexical: &[LabelHit]) -> Vec<LabelHit> {
    if !meaning.available() || q.terms.is_empty() {
        return vec![];
    }
    let mut spans = Vec::new();
    for (li, line) in pt.lines.iter().enumerate() {
        if lexical.iter().any(|h| h.line == li) {
            continue;
        }
        if let Some((end, text)) = label_span(&line.printed) {
            spans.push((li, end, text));
        }
    }
    if spans.is_empty() {
        return vec![];
    }
    let subject = q.subject().join(" ");
    if subject.is_empty() {
        return vec![];
    }
    let texts: Vec<&str> = spans.iter().map(|(_, _, t)| t.as_str()).collect();
    let Some(sims) = meaning.similarities(&subject, &texts) else { return vec![] };
    spans
        .iter()
        .zip(sims)
        .filter(|(_, s)| *s >= LABEL_SIMILARITY)
        .map(|((li, end, _), s)| LabelHit {
            line: *li,
            start: 0,
            end: *end,
            bbox: pt.span_box(*li, 0, *end),
            score: (0.45 + (s - LABEL_SIMILARITY)).min(0.8),
            avoid: false,
        })
        .collect()
}

/// The words a line starts with that could be a label: before its first value (a word with
/// digits) or up to a colon, at most six words. Returns how many words, and their text.
fn label_span(printed: &[String]) -> Option<(usize, String)> {
    let first_value = printed.iter().position(|w| w.chars().any(|c| c.is_ascii_digit())).unwrap_or(printed.len());
    let colon = printed.iter().position(|w| w.ends_with(':')).map(|i| i + 1);
    let end = colon.unwrap_or(first_value).min(first_value).min(6);
    let text = printed[..end].join(" ");
    let text = text.trim_end_matches(':').trim();
    if end == 0 || text.chars().filter(|c| c.is_alphabetic()).count() < 3 || text.len() > 48 {
        return None;
    }
    Some((end, text.to_string()))
}
