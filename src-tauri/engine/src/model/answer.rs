//! Answers to questions about a document: the answer as printed, its normal form, a confidence,
//! and its evidence (page, box, source); or an honest "not found" with the best guesses.

use serde::{Deserialize, Serialize};

use super::BBox;

/// The kind of answer a question wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Date,
    Money,
    Percent,
    Period,
    Currency,
    /// An invoice number, an account, a reference: a token with digits.
    Identifier,
    /// A company or person.
    Name,
    Address,
    /// A state or country (governing law, jurisdiction).
    Place,
    Text,
}

impl Target {
    /// The name schemas and questions use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Date => "date",
            Target::Money => "money",
            Target::Percent => "percent",
            Target::Period => "period",
            Target::Currency => "currency",
            Target::Identifier => "identifier",
            Target::Name => "name",
            Target::Address => "address",
            Target::Place => "place",
            Target::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Some(match s {
            "date" => Target::Date,
            "money" | "amount" => Target::Money,
            "percent" => Target::Percent,
            "period" | "duration" => Target::Period,
            "currency" => Target::Currency,
            "identifier" | "number" | "id" => Target::Identifier,
            "name" | "party" | "organisation" | "organization" => Target::Name,
            "address" => Target::Address,
            "place" | "jurisdiction" => Target::Place,
            "text" => Target::Text,
            _ => return None,
        })
    }
}

/// Where an answer stands on its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Evidence {
    pub page: u32,
    pub bbox: BBox,
    /// Where the words came from: `text-layer`, `ocr` (later `vlm`, `user`).
    pub source: String,
    pub text: String,
}

/// A possible answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Guess {
    pub answer: String,
    pub normalized: String,
    pub confidence: f32,
    pub evidence: Vec<Evidence>,
    /// The label the value was read under, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Answer {
    pub question: String,
    pub target: Target,
    pub found: bool,
    /// The answer as printed, when found.
    pub answer: Option<String>,
    pub normalized: Option<String>,
    /// For amounts: the currency printed beside it (ISO 4217), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// For amounts in a table that states its scale: "thousands", "millions" or "billions".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub confidence: f32,
    pub evidence: Vec<Evidence>,
    /// The best candidates (the answer first when found), for a person to check.
    pub guesses: Vec<Guess>,
    /// Why nothing was found, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a model's answer: what the honesty checks found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<ModelChecks>,
}

/// What the honesty checks found about a model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ModelChecks {
    pub model: String,
    /// Words of the answer that appear nowhere on the page.
    pub not_on_page: Vec<String>,
    /// The model started repeating itself; the loop was cut.
    pub loop_cut: bool,
    /// How the evidence was found: "model box", "page words" or "none".
    pub grounded_by: String,
    pub tokens: usize,
    pub prefill_ms: f64,
    pub decode_ms: f64,
}

/// A question asked earlier and the answer it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Asked {
    /// The page asked about, or none for the whole document.
    pub page: Option<u32>,
    pub answer: Answer,
    #[ts(type = "number")]
    pub asked_at: i64,
}
