//! Layouts kept in the library: a page's layout is analysed once per analyzer (mode and version)
//! and cached; the viewer, questions and extraction all use the layout the same mode gives.

use super::Library;
use crate::layout::analyze::{analyze_pages, Pixels, ANALYZER_VERSION, DETECTOR_PIXELS};
use crate::layout::detector;
use crate::layout::pairs::PairModel;
use crate::model::{DocId, LayoutMode, Page, PageLayout};
use crate::{Error, Result};

impl Library {
    /// The layout of every page of a document, from the cache or analysed now (and cached).
    pub fn document_layout(&self, id: &DocId, mode: LayoutMode) -> Result<Vec<PageLayout>> {
        self.layouts_of(id, &self.store.pages(id)?, mode)
    }

    /// The layout of one page (analysed with what the document's pages share, like every page),
    /// from the cache or analysed now: what a viewer needs to show one page quickly.
    pub fn page_layout(&self, id: &DocId, page: u32, mode: LayoutMode) -> Result<PageLayout> {
        match self.cached_layouts(id, &self.store.pages(id)?, &|no| no == page, mode)?.pop() {
            Some(layout) => Ok(layout),
            None => {
                let doc = self.store.document(id)?;
                Err(Error::NoSuchPage { doc: doc.name, page, pages: doc.pages })
            }
        }
    }

    /// Like [`Library::document_layout`], for the document's pages already read from the library.
    pub(super) fn layouts_of(&self, id: &DocId, pages: &[Page], mode: LayoutMode) -> Result<Vec<PageLayout>> {
        self.cached_layouts(id, pages, &|_| true, mode)
    }

    /// The layouts of the `wanted` pages among `pages`: cached ones as they are, the others
    /// analysed and cached.
    fn cached_layouts(
        &self,
        id: &DocId,
        pages: &[Page],
        wanted: &(dyn Fn(u32) -> bool + Sync),
        mode: LayoutMode,
    ) -> Result<Vec<PageLayout>> {
        // Key-values are part of a layout: refitted weights analyse the pages again.
        let key = format!("{}@{ANALYZER_VERSION}.{:08x}", mode.as_str(), PairModel::bundled_fingerprint());
        let mut cached = self.store.stored_layouts(id, &key)?;
        let wanted_pages = || pages.iter().filter(|p| wanted(p.page));
        if wanted_pages().all(|p| cached.contains_key(&p.page)) {
            return Ok(wanted_pages().filter_map(|p| cached.remove(&p.page)).collect());
        }
        let pixels = Pixels { image_of: &|no| self.pixels(id, no, DETECTOR_PIXELS), detector: &detector::installed };
        let fresh = analyze_pages(pages, &|no| wanted(no) && !cached.contains_key(&no), mode, &pixels);
        // Pages that failed (a model not installed yet, say) are analysed again next time.
        let done: Vec<&PageLayout> = fresh.iter().filter(|l| l.error.is_none()).collect();
        self.store.store_layouts(id, &key, &done)?;
        cached.extend(fresh.into_iter().map(|l| (l.page, l)));
        Ok(wanted_pages().filter_map(|p| cached.remove(&p.page)).collect())
    }
}
