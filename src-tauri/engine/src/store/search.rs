//! Search over page text: the full-text index (FTS5, filled at import) and the stored
//! embeddings of each page's blocks (computed the first time a search by meaning needs them).

use std::collections::HashSet;

use rusqlite::params;

use super::Store;
use crate::model::{BlockVector, DocId, SearchHit};
use crate::Result;

/// Turn what a person typed into an FTS5 query: every word must match, as a literal (so
/// `Invoice-No:` or `"quotes"` never reach FTS5's syntax), with `word*` kept as a prefix search.
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .filter_map(|raw| {
            let prefix = raw.ends_with('*');
            let word: String = raw.trim_end_matches('*').chars().filter(|c| *c != '"').collect();
            if word.chars().any(char::is_alphanumeric) {
                Some(format!("\"{word}\"{}", if prefix { "*" } else { "" }))
            } else {
                None
            }
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// Pages whose text has every word of `query`, best first (bm25, lower is better).
    pub fn full_text(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(q) = fts_query(query) else {
            return Ok(vec![]);
        };
        let mut stmt = self.conn.prepare(
            "SELECT f.doc_id, d.name, f.page, snippet(page_fts, 0, '[', ']', '…', 12), bm25(page_fts)
             FROM page_fts f JOIN documents d ON d.id = f.doc_id
             WHERE page_fts MATCH ?1 ORDER BY bm25(page_fts) LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![q, limit as i64], |r| {
            Ok(SearchHit {
                doc_id: DocId(r.get(0)?),
                name: r.get(1)?,
                page: r.get::<_, i64>(2)? as u32,
                snippet: r.get::<_, String>(3)?.replace(['\n', '\t'], " "),
                score: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The pages of a document whose blocks have embeddings (a page read again loses them).
    pub fn embedded_pages(&self, id: &DocId) -> Result<HashSet<u32>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT page FROM block_embeddings WHERE doc_id = ?1")?;
        let pages = stmt.query_map([&id.0], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(pages)
    }

    /// Keep blocks' embeddings: (document, page, block, text) and its vector.
    pub fn store_block_vectors(&self, blocks: &[(&DocId, u32, u32, &str)], vectors: &[Vec<f32>]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO block_embeddings (doc_id, page, block, text, vector)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for ((doc, page, block, text), v) in blocks.iter().zip(vectors) {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                stmt.execute(params![doc.0, page, block, text, bytes])?;
            }
        }
        Ok(tx.commit()?)
    }

    /// Every stored block embedding, with its document's name.
    pub fn block_vectors(&self) -> Result<Vec<BlockVector>> {
        let mut stmt = self.conn.prepare(
            "SELECT b.doc_id, d.name, b.page, b.text, b.vector
             FROM block_embeddings b JOIN documents d ON d.id = b.doc_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let bytes: Vec<u8> = r.get(4)?;
            Ok(BlockVector {
                doc_id: DocId(r.get(0)?),
                name: r.get(1)?,
                page: r.get(2)?,
                text: r.get(3)?,
                vector: bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_never_reaches_fts_syntax() {
        assert_eq!(fts_query("Invoice-No: 123").as_deref(), Some("\"Invoice-No:\" \"123\""));
        assert_eq!(fts_query("tot*").as_deref(), Some("\"tot\"*"));
        assert_eq!(fts_query("say \"hi\" AND"), Some("\"say\" \"hi\" \"AND\"".into()));
        assert_eq!(fts_query("  -- ** "), None);
    }
}
