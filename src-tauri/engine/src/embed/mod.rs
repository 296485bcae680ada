//! Sentence embeddings and what is built on them: the embedding model ([`model`]), texts'
//! embeddings cached per text for the process ([`Meaning`]), and pages ranked by meaning for
//! search ([`search`]). Everything works without the model too (lexical only), so a missing
//! download never stops an answer or a search.

pub mod model;
pub mod search;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use model::{cosine, Embedder};

/// Most texts whose embeddings are kept in memory.
const CACHE_TEXTS: usize = 50_000;

/// Texts' embeddings, with the installed model or without one (then every call gives None).
/// Clones share the model.
#[derive(Clone)]
pub struct Meaning {
    embedder: Option<Arc<Mutex<Embedder>>>,
}

fn cache() -> &'static Mutex<HashMap<String, Vec<f32>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<f32>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Meaning {
    /// With the installed embedding model, or lexical only when it is missing.
    pub fn installed() -> Meaning {
        Meaning { embedder: Embedder::get().ok() }
    }

    pub fn lexical_only() -> Meaning {
        Meaning { embedder: None }
    }

    pub fn available(&self) -> bool {
        self.embedder.is_some()
    }

    /// Embeddings of `texts` (cached); None without the model or when it fails.
    pub fn embed(&mut self, texts: &[&str]) -> Option<Vec<Vec<f32>>> {
        let embedder = self.embedder.as_ref()?;
        let missing: Vec<&str> = {
            let c = cache().lock().unwrap_or_else(|p| p.into_inner());
            let mut m: Vec<&str> = texts.iter().copied().filter(|t| !c.contains_key(*t)).collect();
            m.sort();
            m.dedup();
            m
        };
        if !missing.is_empty() {
            let fresh = embedder.lock().unwrap_or_else(|p| p.into_inner()).embed(&missing).ok()?;
            let mut c = cache().lock().unwrap_or_else(|p| p.into_inner());
            // Bounded (1.5 KB a text): a long-lived app starts afresh rather than grow forever.
            if c.len() + missing.len() > CACHE_TEXTS {
                c.clear();
            }
            for (t, v) in missing.iter().zip(fresh) {
                c.insert(t.to_string(), v);
            }
        }
        let c = cache().lock().unwrap_or_else(|p| p.into_inner());
        Some(texts.iter().map(|t| c[*t].clone()).collect())
    }

    /// Similarity of each text to `query` (None without the model).
    pub fn similarities(&mut self, query: &str, texts: &[&str]) -> Option<Vec<f32>> {
        let mut all = vec![query];
        all.extend_from_slice(texts);
        let vecs = self.embed(&all)?;
        Some(vecs[1..].iter().map(|v| cosine(&vecs[0], v)).collect())
    }
}
