//! Pages ranked by meaning for search: each page's blocks are embedded once (the library keeps
//! the vectors), a query is compared with every block, a page counts by its best block, and
//! that ranking is merged with the full-text hits by reciprocal rank fusion, so exact words and
//! paraphrases both count.

use std::collections::{BTreeMap, HashMap};

use super::cosine;
use crate::model::{BlockVector, DocId, Page, PageMatch, SearchHit};

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

/// Pages by their best block's similarity to a query, fed one stored block at a time (so the
/// library's vectors never need to be in memory together).
pub struct PageRanking<'q> {
    query: &'q [f32],
    best: HashMap<(DocId, u32), (u32, f32)>,
}

impl<'q> PageRanking<'q> {
    pub fn new(query: &'q [f32]) -> Self {
        PageRanking { query, best: HashMap::new() }
    }

    pub fn add(&mut self, b: BlockVector) {
        let sim = cosine(self.query, &b.vector);
        let kept = self.best.entry((b.doc_id, b.page)).or_insert((b.block, sim));
        if sim > kept.1 {
            *kept = (b.block, sim);
        }
    }

    /// The `n` best pages, best first.
    pub fn top(self, n: usize) -> Vec<PageMatch> {
        let mut ranked: Vec<PageMatch> = self
            .best
            .into_iter()
            .map(|((doc_id, page), (block, similarity))| PageMatch { doc_id, page, block, similarity })
            .collect();
        ranked.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then_with(|| a.doc_id.cmp(&b.doc_id)));
        ranked.truncate(n);
        ranked
    }
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
    // Ties in a fixed order, so pages of results do not overlap.
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| (&a.1.doc_id, a.1.page).cmp(&(&b.1.doc_id, b.1.page))));
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
        let block = |doc: &str, page, block, v: [f32; 2]| BlockVector {
            doc_id: DocId(doc.into()),
            page,
            block,
            vector: v.to_vec(),
        };
        let q = [1.0, 0.0];
        let mut ranking = PageRanking::new(&q);
        for b in [block("a", 1, 0, [0.0, 1.0]), block("a", 1, 1, [1.0, 0.0]), block("b", 2, 0, [0.7, 0.7])] {
            ranking.add(b);
        }
        let matches = ranking.top(10);
        assert_eq!(matches.iter().map(|m| (m.doc_id.0.as_str(), m.block)).collect::<Vec<_>>(), [("a", 1), ("b", 0)]);
        let ranked = vec![hit("a", 1, "near", 1.0), hit("b", 2, "mid", 0.7)];
        let fused = fuse(vec![hit("b", 2, "[word] found", -3.0)], ranked, 10);
        // b p.2 is found both ways and comes first, with its full-text snippet.
        assert_eq!((fused[0].doc_id.0.as_str(), fused[0].snippet.as_str()), ("b", "[word] found"));
        assert_eq!((fused[1].doc_id.0.as_str(), fused[1].snippet.as_str()), ("a", "≈ near"));
    }
}
