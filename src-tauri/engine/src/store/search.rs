//! Search over page text: the full-text index (FTS5, filled at import) and the stored
//! embeddings of each page's blocks (computed the first time a search by meaning needs them).

use rusqlite::params;

use super::documents::{page_from_row_at, PAGE_COLUMNS};
use super::Store;
use crate::model::{BlockVector, DocId, Page, SearchHit};
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
    /// Pages whose text has every word of `query`, best first (bm25, lower is better): `limit`
    /// of them from `offset`. The snippets are made for those pages only (made for every match
    /// before the sort, a common word cost seconds in 100,000 pages).
    pub fn full_text(&self, query: &str, offset: usize, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(q) = fts_query(query) else {
            return Ok(vec![]);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.doc_id, d.name, f.page, snippet(page_fts, 0, '[', ']', '…', 12), f.rank
             FROM page_fts f JOIN documents d ON d.id = f.doc_id
             WHERE page_fts MATCH ?1 AND f.rowid IN
                 (SELECT rowid FROM page_fts WHERE page_fts MATCH ?1 ORDER BY rank LIMIT ?2 OFFSET ?3)
             ORDER BY f.rank",
        )?;
        let rows = stmt.query_map(params![q, limit as i64, offset as i64], |r| {
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

    /// How many pages no search by meaning has embedded yet.
    pub fn count_pages_to_embed(&self) -> Result<u64> {
        let n: i64 =
            self.conn.query_row(&format!("SELECT COUNT(*) FROM pages p WHERE {NOT_EMBEDDED}"), [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Up to `limit` pages not embedded yet, with their documents.
    pub fn pages_to_embed(&self, limit: usize) -> Result<Vec<(DocId, Page)>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT p.doc_id, {PAGE_COLUMNS} FROM pages p WHERE {NOT_EMBEDDED} LIMIT ?1"))?;
        let rows = stmt.query_map([limit as i64], |r| Ok((DocId(r.get(0)?), page_from_row_at(r, 1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keep blocks' embeddings, (document, page, block, text) and its vector, and mark `pages`
    /// embedded (all of theirs are among the blocks, or they had none worth embedding).
    pub fn store_block_vectors(
        &self,
        pages: &[(&DocId, u32)],
        blocks: &[(&DocId, u32, u32, &str)],
        vectors: &[Vec<f32>],
    ) -> Result<()> {
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
            let mut mark = tx.prepare_cached("INSERT OR IGNORE INTO embedded_pages (doc_id, page) VALUES (?1, ?2)")?;
            for (doc, page) in pages {
                mark.execute(params![doc.0, page])?;
            }
        }
        Ok(tx.commit()?)
    }

    /// Every stored block embedding, one at a time (never all in memory: 100,000 pages hold
    /// some 400 MB of them).
    pub fn each_block_vector(&self, f: &mut dyn FnMut(BlockVector)) -> Result<()> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id, page, block, vector FROM block_embeddings")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let bytes = r.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
            f(BlockVector {
                doc_id: DocId(r.get(0)?),
                page: r.get(1)?,
                block: r.get(2)?,
                vector: bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            });
        }
        Ok(())
    }

    /// A block's text and its document's name, for a hit found by meaning.
    pub fn block_text(&self, doc: &DocId, page: u32, block: u32) -> Result<(String, String)> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT d.name, b.text FROM block_embeddings b JOIN documents d ON d.id = b.doc_id
             WHERE b.doc_id = ?1 AND b.page = ?2 AND b.block = ?3",
            )?
            .query_row(params![doc.0, page, block], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
}

const NOT_EMBEDDED: &str = "NOT EXISTS (SELECT 1 FROM embedded_pages e WHERE e.doc_id = p.doc_id AND e.page = p.page)";

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
