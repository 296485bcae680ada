//! Pages ranked by meaning for search: each page's blocks are embedded once (the library keeps
//! the vectors), a query is compared with every block, a page counts by its best block, and
//! that ranking is merged with the full-text hits by reciprocal rank fusion, so exact words and
//! paraphrases both count.

use std::collections::{BTreeMap, HashMap};

use super::cosine;
use crate::model::{BlockVector, DocId, Page, SearchHit};

/// Longest block text embedded (the model reads 128 tokens at most anyway).
pub const MAX_BLOCK_CHARS: usize = 600;

/// The texts of a page's blocks worth embedding (three letters or more), by block number.
pub fn block_texts(page: &Page) -> Vec<(u32, String)> {
    let mut blocks: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for line in &page.lines {
        let words = blocks.entry(line.block).or_default();
        words.extend(line.words.iter().map(|&w| page.words[w as usize].text.as_str()));
    }
    blocks
        .into_iter()
        .map(|(b, words)| (b, words.join(" ").chars().take(MAX_BLOCK_CHARS).collect::<String>()))
        .filter(|(_, text)| text.chars().filter(|c| c.is_alphabetic()).count() >= 3)
        .collect()
}

/// Pages by their best block's similarity to `query`, best first; each hit's snippet is that
/// block's text and its score the similarity.
pub fn rank_pages(query: &[f32], blocks: impl IntoIterator<Item = BlockVector>) -> Vec<SearchHit> {
    let mut best: HashMap<(DocId, u32), (f32, BlockVector)> = HashMap::new();
    for b in blocks {
        let sim = cosine(query, &b.vector);
        match best.get(&(b.doc_id.clone(), b.page)) {
            Some((kept, _)) if *kept >= sim => {}
            _ => {
                best.insert((b.doc_id.clone(), b.page), (sim, b));
            }
        }
    }
    let mut ranked: Vec<(f32, BlockVector)> = best.into_values().collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked
        .into_iter()
        .map(|(sim, b)| SearchHit { doc_id: b.doc_id, name: b.name, page: b.page, snippet: b.text, score: sim as f64 })
        .collect()
}

/// Full-text hits and pages ranked by meaning merged by reciprocal rank fusion (k = 60, as is
/// usual). A page found by meaning shows the start of its best block (marked `≈`) unless the
/// full-text search found it too, and carries its similarity as its score.
pub fn fuse(full_text: Vec<SearchHit>, by_meaning: Vec<SearchHit>, limit: usize) -> Vec<SearchHit> {
    let mut fused: HashMap<(DocId, u32), (f64, SearchHit)> = HashMap::new();
    for (rank, h) in full_text.into_iter().enumerate() {
        fused.insert((h.doc_id.clone(), h.page), (1.0 / (60.0 + rank as f64), h));
    }
    for (rank, h) in by_meaning.into_iter().enumerate() {
        let snippet: String = h.snippet.chars().take(120).collect();
        let score = h.score;
        let e = fused
            .entry((h.doc_id.clone(), h.page))
            .or_insert((0.0, SearchHit { snippet: format!("≈ {snippet}"), score: 0.0, ..h }));
        e.0 += 1.0 / (60.0 + rank as f64);
        e.1.score = score;
    }
    let mut hits: Vec<(f64, SearchHit)> = fused.into_values().collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0));
    hits.into_iter().take(limit).map(|(_, h)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(doc: &str, page: u32, snippet: &str, score: f64) -> SearchHit {
        SearchHit { doc_id: DocId(doc.into()), name: format!("{doc}.pdf"), page, snippet: snippet.into(), score }
    }

    #[test]
    fn pages_count_by_their_best_block_and_both_rankings_add_up() {
        let block = |doc: &str, page, text: &str, v: [f32; 2]| BlockVector {
            doc_id: DocId(doc.into()),
            name: format!("{doc}.pdf"),
            page,
            text: text.into(),
            vector: v.to_vec(),
        };
        let ranked = rank_pages(
            &[1.0, 0.0],
            vec![block("a", 1, "far", [0.0, 1.0]), block("a", 1, "near", [1.0, 0.0]), block("b", 2, "mid", [0.7, 0.7])],
        );
        assert_eq!(ranked.iter().map(|h| h.snippet.as_str()).collect::<Vec<_>>(), ["near", "mid"]);
        let fused = fuse(vec![hit("b", 2, "[word] found", -3.0)], ranked, 10);
        // b p.2 is found both ways and comes first, with its full-text snippet.
        assert_eq!((fused[0].doc_id.0.as_str(), fused[0].snippet.as_str()), ("b", "[word] found"));
        assert_eq!((fused[1].doc_id.0.as_str(), fused[1].snippet.as_str()), ("a", "≈ near"));
    }
}
