//! Field extraction: a [`Schema`]'s fields filled in for a document by asking an
//! [`Answerer`] each field's questions over its pages; every value keeps its evidence. (The
//! library keeps the values, recomputing only fields whose definition or document changed, and
//! keeps a value a person corrected: see `service::fields`.)

pub mod schema;

use crate::ask::labels::PageText;
use crate::ask::{Answerer, Question, FOUND};
use crate::model::{FieldValue, Guess, Item, Target, ValueSource};
use crate::values::{loose, trim_float};

pub use schema::{FieldSpec, FieldType, Schema};

/// Bumped when extraction changes what it would find, so stored values are recomputed.
/// (2: questions and extraction use the layout the viewer shows, the detector's on scans;
/// 3: on scans, the detector's regions fused with the geometric analysis of the OCR lines.)
pub const EXTRACTOR_VERSION: u32 = 3;

/// Ask a field's questions; the most confident fitting answer wins.
pub fn extract_field(spec: &FieldSpec, pages: &[PageText], answerer: &mut dyn Answerer) -> FieldValue {
    let target = spec.target();
    let pattern = spec.pattern.as_deref().and_then(|p| regex::Regex::new(p).ok());
    let fits = |g: &Guess| {
        pattern.as_ref().is_none_or(|re| re.is_match(&g.answer))
            && (spec.kind != FieldType::Enum || enum_value(spec, &g.normalized).is_some())
    };
    if spec.kind == FieldType::List {
        return list_field(spec, pages, answerer, &fits);
    }
    let mut best: Option<(Guess, Option<String>)> = None;
    let mut best_reason = None;
    for text in spec.all_questions() {
        let q = Question::for_target(&text, target);
        let answer = answerer.answer(pages, &q);
        if let Some(g) = answer.guesses.iter().find(|g| fits(g)) {
            let currency = if answer.found && answer.answer.as_deref() == Some(g.answer.as_str()) {
                answer.currency.clone()
            } else {
                None
            };
            if best.as_ref().is_none_or(|(b, _)| g.confidence > b.confidence) {
                best = Some((g.clone(), currency));
            }
        }
        best_reason = best_reason.or(answer.reason);
    }
    match best {
        Some((g, currency)) if g.confidence >= FOUND => {
            let value = match spec.kind {
                FieldType::Enum => enum_value(spec, &g.normalized).unwrap_or_default(),
                FieldType::Number => g.normalized.parse::<f64>().map(trim_float).unwrap_or(g.normalized.clone()),
                _ => g.normalized.clone(),
            };
            FieldValue {
                field: spec.name.clone(),
                value: Some(value),
                text: Some(g.answer.clone()),
                currency: currency.filter(|_| target == Target::Money),
                confidence: g.confidence,
                evidence: g.evidence,
                items: vec![],
                source: ValueSource::Extracted,
                reason: None,
            }
        }
        Some((g, _)) => {
            FieldValue::missing(&spec.name, g.confidence, format!("best guess '{}' is not confident enough", g.answer))
        }
        None => FieldValue::missing(&spec.name, 0.0, best_reason.unwrap_or_else(|| "nothing on the pages fits".into())),
    }
}

fn enum_value(spec: &FieldSpec, normalized: &str) -> Option<String> {
    spec.values.iter().find(|v| v.eq_ignore_ascii_case(normalized.trim())).cloned()
}

/// Every fitting answer above the line, one per distinct value (a name inside another, as
/// "JDA" inside "JDA Software Group, Inc.", counts once).
fn list_field(
    spec: &FieldSpec,
    pages: &[PageText],
    answerer: &mut dyn Answerer,
    fits: &dyn Fn(&Guess) -> bool,
) -> FieldValue {
    let mut items: Vec<Item> = Vec::new();
    for text in spec.all_questions() {
        let q = Question::for_target(&text, spec.target());
        let found: Vec<Guess> = answerer.answer_all(pages, &q, FOUND).into_iter().filter(|g| fits(g)).collect();
        // Items as sure as the surest, or nearly: a contract's parties, not every name in it.
        let best = found.iter().map(|g| g.confidence).fold(0.0f32, f32::max);
        for g in found.into_iter().filter(|g| g.confidence >= (best - 0.15).max(0.5)) {
            let key = loose(&g.normalized);
            if items.iter().any(|i| {
                let k = loose(&i.value);
                k.contains(&key) || key.contains(&k)
            }) {
                continue;
            }
            items.push(Item { value: g.normalized.clone(), confidence: g.confidence, evidence: g.evidence });
        }
    }
    if items.is_empty() {
        return FieldValue::missing(&spec.name, 0.0, "no item was found with enough confidence".into());
    }
    let confidence = items.iter().map(|i| i.confidence).fold(f32::MAX, f32::min);
    let value = items.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join("; ");
    FieldValue {
        field: spec.name.clone(),
        value: Some(value.clone()),
        text: Some(value),
        currency: None,
        confidence,
        evidence: items.iter().flat_map(|i| i.evidence.clone()).collect(),
        items,
        source: ValueSource::Extracted,
        reason: None,
    }
}
