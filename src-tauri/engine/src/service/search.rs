//! Search over every page in the library: full-text, and by meaning (each page's blocks
//! embedded the first time a search by meaning needs them, then kept).

use super::Library;
use crate::embed::search::{block_texts, fuse, rank_pages};
use crate::embed::Meaning;
use crate::model::SearchHit;
use crate::Result;

impl Library {
    /// Pages with every word of `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        self.store.full_text(query, limit)
    }

    /// Pages ranked by meaning (their best-matching block) merged with full-text hits, so exact
    /// words and paraphrases both count. Without the embedding model this is the full-text search.
    pub fn semantic_search(&self, query: &str, limit: usize, meaning: &mut Meaning) -> Result<Vec<SearchHit>> {
        let full_text = self.store.full_text(query, limit * 3)?;
        self.embed_missing_blocks(meaning)?;
        let Some(q) = meaning.embed(&[query]).map(|mut v| v.remove(0)) else {
            return Ok(full_text.into_iter().take(limit).collect());
        };
        let by_meaning = rank_pages(&q, self.store.block_vectors()?).into_iter().take(limit * 3).collect();
        Ok(fuse(full_text, by_meaning, limit))
    }

    /// Embeddings of every block of every page not embedded yet (kept for next time).
    fn embed_missing_blocks(&self, meaning: &mut Meaning) -> Result<()> {
        let mut todo = Vec::new();
        for doc in self.store.documents()? {
            // Per page: a page read again (its embeddings dropped) is embedded again.
            let done = self.store.embedded_pages(&doc.id)?;
            if done.len() as u32 >= doc.pages {
                continue;
            }
            for page in self.store.pages(&doc.id)?.into_iter().filter(|p| !done.contains(&p.page)) {
                todo.extend(
                    block_texts(&page).into_iter().map(|(block, text)| (doc.id.clone(), page.page, block, text)),
                );
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let texts: Vec<&str> = todo.iter().map(|t| t.3.as_str()).collect();
        let Some(vectors) = meaning.embed(&texts) else { return Ok(()) };
        let blocks: Vec<_> = todo.iter().map(|(doc, page, block, text)| (doc, *page, *block, text.as_str())).collect();
        self.store.store_block_vectors(&blocks, &vectors)
    }
}
