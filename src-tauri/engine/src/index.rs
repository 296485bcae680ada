//! Search over page text: full-text (SQLite FTS5, filled at import), and semantic (sentence
//! embeddings of each page's blocks, computed the first time they are needed and stored), the two
//! merged by reciprocal rank fusion.

use serde::{Deserialize, Serialize};

use crate::ask::embed::cosine;
use crate::ask::meaning::Meaning;
use crate::doc::DocId;
use crate::store::Library;
use crate::Result;

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

pub fn search(lib: &Library, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
    let Some(q) = fts_query(query) else {
        return Ok(vec![]);
    };
    let mut stmt = lib.conn.prepare(
        "SELECT f.doc_id, d.name, f.page, snippet(page_fts, 0, '[', ']', '…', 12), bm25(page_fts)
         FROM page_fts f JOIN documents d ON d.id = f.doc_id
         WHERE page_fts MATCH ?1 ORDER BY bm25(page_fts) LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![q, limit as i64], |r| {
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

/// Embeddings of every block of every page not embedded yet (stored for next time).
fn embed_missing_blocks(lib: &Library, meaning: &mut Meaning) -> Result<()> {
    let mut todo: Vec<(String, u32, u32, String)> = Vec::new();
    for doc in lib.documents()? {
        // Per page: a page read again (its embeddings dropped) is embedded again.
        let mut stmt = lib.conn.prepare_cached("SELECT DISTINCT page FROM block_embeddings WHERE doc_id = ?1")?;
        let done: std::collections::HashSet<u32> =
            stmt.query_map([&doc.id.0], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if done.len() as u32 >= doc.pages {
            continue;
        }
        for page in lib.pages(&doc.id)?.into_iter().filter(|p| !done.contains(&p.page)) {
            let mut blocks: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
            for line in &page.lines {
                let words = blocks.entry(line.block).or_default();
                words.extend(line.words.iter().map(|&w| page.words[w as usize].text.as_str()));
            }
            for (b, words) in blocks {
                let text: String = words.join(" ").chars().take(MAX_BLOCK_CHARS).collect();
                if text.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
                    todo.push((doc.id.0.clone(), page.page, b, text));
                }
            }
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = todo.iter().map(|t| t.3.as_str()).collect();
    let Some(vectors) = meaning.embed(&texts) else { return Ok(()) };
    let tx = lib.conn.unchecked_transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO block_embeddings (doc_id, page, block, text, vector) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for ((doc, page, block, text), v) in todo.iter().zip(vectors) {
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            stmt.execute(rusqlite::params![doc, page, block, text, bytes])?;
        }
    }
    Ok(tx.commit()?)
}

/// Longest block text embedded (the model reads 128 tokens at most anyway).
const MAX_BLOCK_CHARS: usize = 600;

/// Pages ranked by meaning (their best-matching block) merged with full-text hits by
/// reciprocal rank fusion, so exact words and paraphrases both count. Without the embedding
/// model this is the full-text search.
pub fn semantic_search(lib: &Library, query: &str, limit: usize, meaning: &mut Meaning) -> Result<Vec<SearchHit>> {
    let fts = search(lib, query, limit * 3)?;
    embed_missing_blocks(lib, meaning)?;
    let Some(q) = meaning.embed(&[query]).map(|mut v| v.remove(0)) else {
        return Ok(fts.into_iter().take(limit).collect());
    };
    let mut stmt = lib.conn.prepare(
        "SELECT b.doc_id, d.name, b.page, b.text, b.vector FROM block_embeddings b JOIN documents d ON d.id = b.doc_id",
    )?;
    let mut best: std::collections::HashMap<(String, u32), (f32, String, String)> = Default::default();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Vec<u8>>(4)?,
        ))
    })?;
    for row in rows {
        let (doc, name, page, text, bytes) = row?;
        let v: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let sim = cosine(&q, &v);
        let e = best.entry((doc, page)).or_insert((f32::MIN, name, String::new()));
        if sim > e.0 {
            e.0 = sim;
            e.2 = text;
        }
    }
    let mut by_meaning: Vec<((String, u32), (f32, String, String))> = best.into_iter().collect();
    by_meaning.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    // Reciprocal rank fusion (k = 60, as is usual).
    let mut fused: std::collections::HashMap<(String, u32), (f64, SearchHit)> = Default::default();
    for (rank, h) in fts.into_iter().enumerate() {
        fused.insert((h.doc_id.0.clone(), h.page), (1.0 / (60.0 + rank as f64), h));
    }
    for (rank, ((doc, page), (sim, name, text))) in by_meaning.into_iter().take(limit * 3).enumerate() {
        let add = 1.0 / (60.0 + rank as f64);
        let snippet: String = text.chars().take(120).collect();
        let e = fused.entry((doc.clone(), page)).or_insert((
            0.0,
            SearchHit { doc_id: DocId(doc), name, page, snippet: format!("≈ {snippet}"), score: 0.0 },
        ));
        e.0 += add;
        e.1.score = sim as f64;
    }
    let mut hits: Vec<(f64, SearchHit)> = fused.into_values().collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(hits.into_iter().take(limit).map(|(_, h)| h).collect())
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
