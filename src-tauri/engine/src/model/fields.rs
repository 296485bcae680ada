//! Extracted field values: a schema's fields filled in for a document, each value with its
//! evidence, or a person's correction.

use serde::{Deserialize, Serialize};

use super::{DocId, Evidence};

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
    pub fn missing(field: &str, confidence: f32, reason: String) -> FieldValue {
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
