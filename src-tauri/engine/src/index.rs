//! Full-text search over page text (SQLite FTS5, filled at import).

use serde::{Deserialize, Serialize};

use crate::doc::DocId;
use crate::store::Library;
use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchHit {
    pub doc_id: DocId,
    pub name: String,
    pub page: u32,
    /// Matched terms are wrapped in [ ].
    pub snippet: String,
    /// bm25 score (lower is better).
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
