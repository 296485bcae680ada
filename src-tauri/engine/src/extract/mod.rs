//! Field extraction: a [`Schema`]'s fields filled in for a document by asking an
//! [`Answerer`] each field's questions. Every value keeps its evidence; values are stored in the
//! library, so running again recomputes only fields whose definition or document changed, and a
//! value a person corrected is kept and marked as theirs.

pub mod schema;

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ask::labels::loose;
use crate::ask::values::trim_float;
use crate::ask::{Answerer, Evidence, Guess, Prepared, Question, Target, FOUND};
use crate::doc::DocId;
use crate::pipeline::Progress;
use crate::{Error, ErrorReport, Library, Result};

pub use schema::{FieldSpec, FieldType, Schema};

/// Bumped when extraction changes what it would find, so stored values are recomputed.
pub const EXTRACTOR_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum ValueSource {
    /// Found in the document by the answerer.
    Extracted,
    /// Set by a person.
    User,
}

/// One item of a list field (a party of a contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Item {
    pub value: String,
    pub confidence: f32,
    pub evidence: Vec<Evidence>,
}

/// A field's value for one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct FieldValue {
    pub field: String,
    /// Normal form (ISO date, decimal amount, ...); list items joined by "; ". None when not found.
    pub value: Option<String>,
    /// As printed on the page.
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub confidence: f32,
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    pub source: ValueSource,
    /// Why there is no value, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl FieldValue {
    fn missing(field: &str, confidence: f32, reason: String) -> FieldValue {
        FieldValue {
            field: field.into(),
            value: None,
            text: None,
            currency: None,
            confidence,
            evidence: vec![],
            items: vec![],
            source: ValueSource::Extracted,
            reason: Some(reason),
        }
    }

    /// The first page the value stands on.
    pub fn page(&self) -> Option<u32> {
        self.evidence.first().map(|e| e.page)
    }
}

/// A document's values for a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DocumentFields {
    pub doc_id: DocId,
    pub name: String,
    pub schema: String,
    pub fields: Vec<FieldValue>,
    /// Fields taken from the library unchanged (not recomputed).
    pub reused: usize,
    /// Required fields (per the schema) left without a value: a person should look.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_required: Vec<String>,
}

fn fingerprint(spec: &FieldSpec, prepared: &Prepared, answerer: &str) -> String {
    let mut h = Sha256::new();
    h.update(EXTRACTOR_VERSION.to_le_bytes());
    h.update(answerer);
    h.update(serde_json::to_vec(spec).expect("specs serialise"));
    for p in &prepared.pages {
        h.update(p.page.to_le_bytes());
        h.update(p.source.as_str());
        h.update(&p.text);
    }
    format!("{:x}", h.finalize())
}

/// Fill in `schema` for many documents, one after another, reporting each as it is done. A
/// document that fails is reported with its error and the others go on; `cancel` stops the run
/// between documents. Returns the documents filled in and the ones that failed.
pub fn extract_documents(
    lib: &Library,
    ids: &[DocId],
    schema: &Schema,
    answerer: &mut dyn Answerer,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Vec<DocumentFields>, Vec<(DocId, ErrorReport)>)> {
    let job = lib.start_job("extract", ids.len())?;
    progress(&Progress::JobStarted { job, files: ids.len() });
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for (index, id) in ids.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let name = lib.document(id).map(|d| d.name).unwrap_or_else(|_| id.short().to_string());
        progress(&Progress::FileStarted { index, path: name.clone() });
        let error = match extract_document(lib, id, schema, answerer) {
            Ok(fields) => {
                done.push(fields);
                None
            }
            Err(e) => {
                let report = e.to_report();
                failed.push((id.clone(), report.clone()));
                Some(report)
            }
        };
        progress(&Progress::Extracted { index, doc_id: id.clone(), name, error });
    }
    let cancelled = done.len() + failed.len() < ids.len();
    lib.finish_job(job, if cancelled { "cancelled" } else { "done" })?;
    progress(&Progress::JobFinished { job, added: done.len(), duplicates: 0, failed: failed.len(), cancelled });
    Ok((done, failed))
}

/// Fill in `schema` for one document (values stored in the library).
pub fn extract_document(
    lib: &Library,
    id: &DocId,
    schema: &Schema,
    answerer: &mut dyn Answerer,
) -> Result<DocumentFields> {
    let doc = lib.document(id)?;
    let prepared = Prepared::load(lib, id, None)?;
    let pages = prepared.view();
    let mut fields = Vec::new();
    let mut reused = 0;
    for spec in &schema.fields {
        let key = fingerprint(spec, &prepared, answerer.name());
        match lib.stored_field(id, &schema.name, &spec.name)? {
            Some(stored) if stored.corrected || stored.input_key == key => {
                reused += 1;
                fields.push(stored.value);
                continue;
            }
            _ => {}
        }
        let value = extract_field(spec, &pages, answerer);
        lib.store_field(id, &schema.name, &value, false, &key)?;
        fields.push(value);
    }
    let missing_required = schema
        .fields
        .iter()
        .filter(|f| f.required && fields.iter().any(|v| v.field == f.name && v.value.is_none()))
        .map(|f| f.name.clone())
        .collect();
    Ok(DocumentFields {
        doc_id: id.clone(),
        name: doc.name,
        schema: schema.name.clone(),
        fields,
        reused,
        missing_required,
    })
}

/// Ask a field's questions; the most confident fitting answer wins.
pub fn extract_field(
    spec: &FieldSpec,
    pages: &[crate::ask::labels::PageText],
    answerer: &mut dyn Answerer,
) -> FieldValue {
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
    pages: &[crate::ask::labels::PageText],
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

/// A person's correction: kept across reruns and marked as theirs.
pub fn correct(lib: &Library, id: &DocId, schema: &Schema, field: &str, value: &str) -> Result<FieldValue> {
    let spec = schema.fields.iter().find(|f| f.name == field).ok_or_else(|| Error::BadSchema {
        path: format!("schema {}", schema.name).into(),
        line: 0,
        detail: format!(
            "no field '{field}' (fields: {})",
            schema.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })?;
    lib.document(id)?;
    let fv = FieldValue {
        field: spec.name.clone(),
        value: Some(value.to_string()),
        text: Some(value.to_string()),
        currency: None,
        confidence: 1.0,
        evidence: vec![],
        items: vec![],
        source: ValueSource::User,
        reason: None,
    };
    lib.store_field(id, &schema.name, &fv, true, "user")?;
    Ok(fv)
}
