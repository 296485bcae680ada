//! Questions about a document: its pages and their layout (the same layout the viewer shows)
//! handed to an answerer, the extractive one or Qwen3-VL looking at the page; and the
//! questions asked, kept with their answers.

use super::Library;
use crate::ask::visual::{Visual, PAGE_PIXELS};
use crate::ask::{meaning, parse_question, Answerer, Extractive, Prepared};
use crate::embed::Meaning;
use crate::model::{Answer, DocId, LayoutMode};
use crate::values::guess_locale;
use crate::vlm::Vlm;
use crate::{Error, Result};

/// The layout of a page that the viewer shows and that questions and extraction use.
pub const PAGE_LAYOUT: LayoutMode = LayoutMode::Auto;

/// Who answers.
pub enum Answering<'a> {
    /// The page's words and layout (fast, no large model); the answerer keeps its cache of
    /// embedded wording between questions.
    Extractive(&'a mut Extractive),
    /// Qwen3-VL looking at the page, its answer grounded and checked against the page's words;
    /// `on_text` hears its words as it writes them.
    Visual { model: &'a mut Vlm, max_pixels: usize, on_text: &'a mut dyn FnMut(&str) },
}

impl Library {
    /// A document's pages (or one page) with their layout, ready for questions.
    pub fn prepare(&self, id: &DocId, page: Option<u32>) -> Result<Prepared> {
        let doc = self.store.document(id)?;
        if let Some(p) = page {
            if p == 0 || p > doc.pages {
                return Err(Error::NoSuchPage { doc: doc.name, page: p, pages: doc.pages });
            }
        }
        let pages = self.store.pages(id)?;
        let layouts = self.layouts_of(id, &pages, PAGE_LAYOUT)?;
        let all_text: String = pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n");
        let locale = guess_locale(&all_text);
        let keep = |n: u32| page.is_none_or(|p| p == n);
        let pages = pages.into_iter().filter(|p| keep(p.page)).collect();
        Ok(Prepared::new(pages, layouts.into_iter().filter(|l| keep(l.page)).collect(), locale))
    }

    /// Ask one question about a document (or one of its pages).
    pub fn ask(&self, id: &DocId, question: &str, page: Option<u32>, answering: &mut Answering) -> Result<Answer> {
        let q = parse_question(question)?;
        let prepared = self.prepare(id, page)?;
        Ok(self.answerer(id, answering).answer(&prepared.view(), &q))
    }

    /// Keep a question asked and its answer in the document's history.
    pub fn record_question(&self, id: &DocId, page: Option<u32>, answer: &Answer) -> Result<()> {
        self.store.record_question(id, page, answer)
    }

    /// Embed what questions about a document will compare, ahead of them, while `still_wanted`.
    pub fn prepare_questions(&self, id: &DocId, meaning: &mut Meaning, still_wanted: &dyn Fn() -> bool) -> Result<()> {
        let prepared = self.prepare(id, None)?;
        meaning::warm(meaning, &prepared.view(), still_wanted);
        Ok(())
    }

    /// The answerer for questions about document `id`.
    pub(super) fn answerer<'b>(&'b self, id: &'b DocId, answering: &'b mut Answering) -> Box<dyn Answerer + 'b> {
        match answering {
            Answering::Extractive(answerer) => Box::new(&mut **answerer),
            Answering::Visual { model, max_pixels, on_text } => {
                let render = move |p| self.pixels(id, p, PAGE_PIXELS);
                let mut visual = Visual::new(model, Meaning::installed(), render, &mut **on_text);
                visual.max_pixels = *max_pixels;
                Box::new(visual)
            }
        }
    }
}
