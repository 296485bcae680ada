//! Search results (a page that matched, with a snippet), and the block embeddings that
//! search by meaning compares a query with.

use serde::{Deserialize, Serialize};

use super::DocId;

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SearchHit {
    pub doc_id: DocId,
    pub name: String,
    pub page: u32,
    /// Matched terms are wrapped in [ ].
    pub snippet: String,
    /// bm25 score (lower is better) for full-text hits; cosine similarity of the best block
    /// (higher is better) for pages found by meaning.
    pub score: f64,
}

/// A block of a page with its embedding, as the library keeps it.
pub struct BlockVector {
    pub doc_id: DocId,
    pub page: u32,
    pub block: u32,
    pub vector: Vec<f32>,
}

/// A page found by meaning: its best-matching block and that block's cosine similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct PageMatch {
    pub doc_id: DocId,
    pub page: u32,
    pub block: u32,
    pub similarity: f32,
}
