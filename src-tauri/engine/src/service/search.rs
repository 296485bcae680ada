//! Search over every page in the library: full-text, and by meaning (each page's blocks
//! embedded the first time a search by meaning needs them, then kept). Both return a page of
//! results (`limit` from `offset`), so a large library never sends all its matches at once.

use super::Library;
use crate::embed::search::{block_texts, fuse, PageRanking};
use crate::embed::Meaning;
use crate::model::{DocId, Progress, SearchHit};
use crate::Result;

/// Pages embedded and stored together: the unit of progress, and what a kill mid-way loses.
const EMBED_BATCH: usize = 64;

impl Library {
    /// Pages with every word of `query`, best first: `limit` of them from `offset`.
    pub fn search(&self, query: &str, offset: usize, limit: usize) -> Result<Vec<SearchHit>> {
        self.store.full_text(query, offset, limit)
    }

    /// Pages ranked by meaning (their best-matching block) merged with full-text hits, so exact
    /// words and paraphrases both count; `limit` of them from `offset`. Pages not embedded yet
    /// are embedded first, with `Progress::Embedding` events. Without the embedding model this
    /// is the full-text search.
    pub fn semantic_search(
        &self,
        query: &str,
        offset: usize,
        limit: usize,
        meaning: &mut Meaning,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<SearchHit>> {
        let wanted = offset + limit;
        let full_text = self.store.full_text(query, 0, wanted * 3)?;
        self.embed_missing_pages(meaning, progress)?;
        let Some(q) = meaning.embed(&[query]).map(|mut v| v.remove(0)) else {
            return Ok(full_text.into_iter().skip(offset).take(limit).collect());
        };
        let mut ranking = PageRanking::new(&q);
        self.store.each_block_vector(&mut |b| ranking.add(b))?;
        let mut by_meaning = Vec::new();
        for m in ranking.top(wanted * 3) {
            let (name, text) = self.store.block_text(&m.doc_id, m.page, m.block)?;
            by_meaning.push(SearchHit {
                doc_id: m.doc_id,
                name,
                page: m.page,
                snippet: text,
                score: m.similarity as f64,
            });
        }
        Ok(fuse(full_text, by_meaning, wanted).into_iter().skip(offset).collect())
    }

    /// Embeddings of the blocks of every page not embedded yet, kept batch by batch (a search
    /// stopped half-way keeps what it embedded).
    fn embed_missing_pages(&self, meaning: &mut Meaning, progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        if !meaning.available() {
            return Ok(());
        }
        let total = self.store.count_pages_to_embed()?;
        if total == 0 {
            return Ok(());
        }
        let mut done = 0;
        progress(&Progress::Embedding { done, total });
        loop {
            let pages = self.store.pages_to_embed(EMBED_BATCH)?;
            if pages.is_empty() {
                return Ok(());
            }
            let todo: Vec<(&DocId, u32, u32, String)> = pages
                .iter()
                .flat_map(|(doc, page)| block_texts(page).into_iter().map(move |(b, text)| (doc, page.page, b, text)))
                .collect();
            let texts: Vec<&str> = todo.iter().map(|t| t.3.as_str()).collect();
            let vectors = if texts.is_empty() { Vec::new() } else { meaning.embed(&texts).unwrap_or_default() };
            if vectors.len() != texts.len() {
                // The model failed: search by what is embedded, and try these pages next time.
                return Ok(());
            }
            let blocks: Vec<_> =
                todo.iter().map(|(doc, page, block, text)| (*doc, *page, *block, text.as_str())).collect();
            let marked: Vec<(&DocId, u32)> = pages.iter().map(|(doc, page)| (doc, page.page)).collect();
            self.store.store_block_vectors(&marked, &blocks, &vectors)?;
            done += pages.len() as u64;
            progress(&Progress::Embedding { done: done.min(total), total });
        }
    }
}
