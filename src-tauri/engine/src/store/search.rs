//! Search over page text: the full-text index (FTS5, filled at import) and the stored
//! embeddings of each page's blocks (computed the first time a search by meaning needs them).

use rusqlite::{params, OptionalExtension};

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

/// Past this many matching pages, hits are ranked among the newest this many and the older
/// matches follow them, newest first: bm25 scores every match before it can pick the best, a
/// third of a second for a word on most of 100,000 pages, where this many take a few ms.
const RANKED_MATCHES: usize = 1000;

/// A matching page of the full-text index: its rowid and bm25 score (lower is better).
type Match = (i64, f64);

impl Store {
    /// Pages whose text has every word of `query`, best first (bm25, lower is better): `limit`
    /// of them from `offset`. When more than [`RANKED_MATCHES`] pages match, the best of the
    /// newest of them come first and the rest follow newest first, so pages of hits put
    /// together are still every match once. Snippets are made for the hits returned only.
    pub fn full_text(&self, query: &str, offset: usize, limit: usize) -> Result<Vec<SearchHit>> {
        self.full_text_ranking(query, offset, limit, RANKED_MATCHES)
    }

    fn full_text_ranking(&self, query: &str, offset: usize, limit: usize, ranked: usize) -> Result<Vec<SearchHit>> {
        let Some(q) = fts_query(query) else {
            return Ok(vec![]);
        };
        let mut best = self.matches_before(&q, i64::MAX, ranked, 0)?;
        let oldest_ranked = best.last().map_or(i64::MAX, |m| m.0);
        let more = best.len() == ranked;
        best.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let mut chosen: Vec<Match> = best.into_iter().skip(offset).take(limit).collect();
        if more && chosen.len() < limit {
            let past = offset.saturating_sub(ranked);
            chosen.extend(self.matches_before(&q, oldest_ranked, limit - chosen.len(), past)?);
        }
        // A page removed by another process since it was counted is left out.
        Ok(chosen.into_iter().map(|m| self.hit(&q, m)).collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
    }

    /// Matching pages older than `rowid`, newest first, each with its score.
    fn matches_before(&self, q: &str, rowid: i64, limit: usize, offset: usize) -> Result<Vec<Match>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, bm25(page_fts) FROM page_fts WHERE page_fts MATCH ?1 AND rowid < ?2
             ORDER BY rowid DESC LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(params![q, rowid, limit as i64, offset as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One matching page as a hit: its document, page and snippet (none if it is gone).
    fn hit(&self, q: &str, (rowid, score): Match) -> Result<Option<SearchHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.doc_id, d.name, f.page, snippet(page_fts, 0, '[', ']', '…', 12)
             FROM page_fts f JOIN documents d ON d.id = f.doc_id
             WHERE page_fts MATCH ?1 AND f.rowid = ?2",
        )?;
        Ok(stmt
            .query_row(params![q, rowid], |r| {
                Ok(SearchHit {
                    doc_id: DocId(r.get(0)?),
                    name: r.get(1)?,
                    page: r.get::<_, i64>(2)? as u32,
                    snippet: r.get::<_, String>(3)?.replace(['\n', '\t'], " "),
                    score,
                })
            })
            .optional()?)
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

    /// A library whose page `i` of `n` has the word "common" `i % 5 + 1` times among filler.
    fn library_of(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO documents (id, name, origin, kind, bytes, pages, added_at)
                 VALUES ('d', 'd.pdf', 'x', 'pdf', 1, ?1, 0)",
                [n as i64],
            )
            .unwrap();
        for i in 0..n {
            let text = format!("{} filler words here", "common ".repeat(i % 5 + 1));
            let sql = "INSERT INTO page_fts (text, doc_id, page) VALUES (?1, 'd', ?2)";
            store.conn.execute(sql, params![text, i as i64 + 1]).unwrap();
        }
        (dir, store)
    }

    fn pages(hits: &[SearchHit]) -> Vec<u32> {
        hits.iter().map(|h| h.page).collect()
    }

    #[test]
    fn few_matches_are_ranked_exactly_best_first() {
        let (_dir, store) = library_of(10);
        let all = store.full_text_ranking("common", 0, 100, 1000).unwrap();
        assert_eq!(all.len(), 10);
        assert!(all.windows(2).all(|w| w[0].score <= w[1].score), "best (lowest bm25) first");
        assert!([5, 10].contains(&all[0].page), "the pages with the word most often lead: {:?}", pages(&all));
        assert!(all[0].snippet.contains("[common]"), "{}", all[0].snippet);
    }

    #[test]
    fn past_the_cap_the_newest_are_ranked_then_the_rest_follow_every_match_once() {
        let (_dir, store) = library_of(23);
        let cap = 6;
        let all = store.full_text_ranking("common", 0, 100, cap).unwrap();
        let mut seen = pages(&all);
        assert_eq!(seen.len(), 23);
        let ranked: Vec<u32> = seen[..cap].to_vec();
        assert!(ranked.iter().all(|p| *p > 17), "the newest {cap} are ranked first: {ranked:?}");
        assert!(all[..cap].windows(2).all(|w| w[0].score <= w[1].score));
        assert_eq!(&seen[cap..], (1..=17).rev().collect::<Vec<u32>>(), "then newest first");
        // Pages of 4 put together are the same hits in the same order, across the cap.
        let paged: Vec<u32> =
            (0..6).flat_map(|k| pages(&store.full_text_ranking("common", k * 4, 4, cap).unwrap())).collect();
        assert_eq!(paged, seen);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 23, "every match once");
    }
}
