//! Layout per document: which analyzer runs on which page, what the pages share (body text
//! size, headers and footers repeated at the edges), the regions' reading order, and the
//! library cache. A page that fails keeps its error; the other pages are still analysed.

use std::collections::{HashMap, HashSet};

use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geometric::{self, DocContext, EDGE_BAND};
use super::{detector, Label, PageLayout, Region, RegionSource};
use crate::doc::{BBox, DocId, Page, PageSource};
use crate::store::Library;
use crate::{render, Error, Result};

/// Bumped whenever an analyzer changes what it produces, so cached layouts are redone.
pub const ANALYZER_VERSION: u32 = 1;
/// Pixels on the longer side of a PDF page rendered for the detector (its input is 800 high).
const DETECTOR_PIXELS: f32 = 1000.0;

/// Which analyzer to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutMode {
    /// Geometric where the page has a text layer, the detector on pages read from pixels.
    #[default]
    Auto,
    Geometric,
    /// The detector on every page (to check the geometric analyzer, or for odd PDFs).
    Detector,
}

impl LayoutMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            LayoutMode::Auto => "auto",
            LayoutMode::Geometric => "geometric",
            LayoutMode::Detector => "detector",
        }
    }
    fn uses_detector(&self, page: &Page) -> bool {
        match self {
            LayoutMode::Detector => true,
            LayoutMode::Geometric => false,
            // Pages read from pixels get the analyzer that reads pixels.
            LayoutMode::Auto => matches!(page.source, PageSource::NeedsReader | PageSource::Ocr | PageSource::Vlm),
        }
    }
}

/// The layout of every page of a document, from the cache or analysed now (and cached).
pub fn document_layout(lib: &Library, id: &DocId, mode: LayoutMode) -> Result<Vec<PageLayout>> {
    layout_of_pages(lib, id, &lib.pages(id)?, mode)
}

/// Like [`document_layout`], for the document's pages already read from the library.
pub fn layout_of_pages(lib: &Library, id: &DocId, pages: &[Page], mode: LayoutMode) -> Result<Vec<PageLayout>> {
    cached_layouts(lib, id, pages, &|_| true, mode)
}

/// The layout of one page (analysed with what the document's pages share, like every page), from
/// the cache or analysed now: what a viewer needs to show one page quickly.
pub fn page_layout(lib: &Library, id: &DocId, page: u32, mode: LayoutMode) -> Result<PageLayout> {
    match cached_layouts(lib, id, &lib.pages(id)?, &|no| no == page, mode)?.pop() {
        Some(layout) => Ok(layout),
        None => {
            let doc = lib.document(id)?;
            Err(Error::NoSuchPage { doc: doc.name, page, pages: doc.pages })
        }
    }
}

/// The layouts of the `wanted` pages among `pages`: cached ones as they are, the others analysed
/// and cached.
fn cached_layouts(
    lib: &Library,
    id: &DocId,
    pages: &[Page],
    wanted: &(dyn Fn(u32) -> bool + Sync),
    mode: LayoutMode,
) -> Result<Vec<PageLayout>> {
    let key = format!("{}@{ANALYZER_VERSION}", mode.as_str());
    let mut cached = lib.stored_layouts(id, &key)?;
    let wanted_pages = || pages.iter().filter(|p| wanted(p.page));
    if wanted_pages().all(|p| cached.contains_key(&p.page)) {
        return Ok(wanted_pages().map(|p| cached.remove(&p.page).unwrap()).collect());
    }
    let image_of =
        |no| Ok(image::DynamicImage::ImageRgba8(render::page_pixels(lib, id, no, DETECTOR_PIXELS)?).to_rgb8());
    let fresh = analyze_pages(pages, &|no| wanted(no) && !cached.contains_key(&no), mode, &image_of);
    // Pages that failed (a model not installed yet, say) are analysed again next time.
    let done: Vec<&PageLayout> = fresh.iter().filter(|l| l.error.is_none()).collect();
    lib.store_layouts(id, &key, &done)?;
    cached.extend(fresh.into_iter().map(|l| (l.page, l)));
    Ok(wanted_pages().filter_map(|p| cached.remove(&p.page)).collect())
}

/// Analyse a document's pages; `image_of(page)` renders a page for the detector.
pub fn analyze_document(
    pages: &[Page],
    mode: LayoutMode,
    image_of: &dyn Fn(u32) -> Result<RgbImage>,
) -> Vec<PageLayout> {
    analyze_pages(pages, &|_| true, mode, image_of)
}

/// Analyse the pages of a document that `needed(page)` names, with what all its pages share.
fn analyze_pages(
    pages: &[Page],
    needed: &(dyn Fn(u32) -> bool + Sync),
    mode: LayoutMode,
    image_of: &dyn Fn(u32) -> Result<RgbImage>,
) -> Vec<PageLayout> {
    let ctx = context(pages);
    let first = first_text_page(pages);
    let geometric: Vec<PageLayout> = pages
        .par_iter()
        .filter(|p| needed(p.page) && (!mode.uses_detector(p) || p.source == PageSource::Failed))
        .map(|p| guarded(p, || Ok(geometric_page(p, &DocContext { first_page: p.page == first, ..ctx.clone() }))))
        .collect();
    let mut by_page: HashMap<u32, PageLayout> = geometric.into_iter().map(|l| (l.page, l)).collect();
    for p in pages.iter().filter(|p| needed(p.page) && mode.uses_detector(p) && p.source != PageSource::Failed) {
        by_page.insert(p.page, guarded(p, || detector_page(p, &image_of(p.page)?)));
    }
    pages.iter().filter_map(|p| by_page.remove(&p.page)).collect()
}

fn first_text_page(pages: &[Page]) -> u32 {
    pages.iter().find(|p| !p.words.is_empty()).map_or(1, |p| p.page)
}

/// Run one page's analysis; an error or a panic becomes the page's recorded error.
fn guarded(page: &Page, f: impl FnOnce() -> Result<PageLayout>) -> PageLayout {
    // A page that could not be read has nothing to analyse; a page merely not read yet (its
    // error says why) still has pixels for the detector.
    if let (PageSource::Failed, Some(err)) = (page.source, &page.error) {
        return PageLayout {
            page: page.page,
            width: page.width,
            height: page.height,
            regions: vec![],
            error: Some(err.clone()),
        };
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(Error::Page {
            doc: "this document".into(),
            page: page.page,
            detail: format!("layout analysis failed: {}", crate::pdfium::panic_message(panic)),
        })
    });
    outcome.unwrap_or_else(|e| PageLayout {
        page: page.page,
        width: page.width,
        height: page.height,
        regions: vec![],
        error: Some(e.to_report()),
    })
}

/// What pages share: the body text size, and texts repeated at the top or bottom edge.
pub fn context(pages: &[Page]) -> DocContext {
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for w in pages.iter().flat_map(|p| &p.words) {
        if w.size > 0.0 {
            *sizes.entry((w.size * 2.0).round() as u32).or_default() += w.text.chars().count();
        }
    }
    let body_size = sizes.into_iter().max_by_key(|&(s, n)| (n, s)).map_or(0.0, |(s, _)| s as f32 / 2.0);
    let mut seen: HashMap<String, HashSet<u32>> = HashMap::new();
    for p in pages {
        for block in geometric::blocks(p) {
            let bbox = block.iter().skip(1).fold(p.lines[block[0]].bbox, |acc, &l| acc.union(&p.lines[l].bbox));
            if bbox.y1 <= p.height * EDGE_BAND || bbox.y0 >= p.height * (1.0 - EDGE_BAND) {
                let text: Vec<&str> = block
                    .iter()
                    .flat_map(|&l| p.lines[l].words.iter().map(|&w| p.words[w as usize].text.as_str()))
                    .collect();
                seen.entry(geometric::signature(&text.join(" "))).or_default().insert(p.page);
            }
        }
    }
    let needed = ((pages.len() as f32 * 0.3).ceil() as usize).max(2);
    let repeated = seen.into_iter().filter(|(_, on)| on.len() >= needed).map(|(sig, _)| sig).collect();
    DocContext { body_size, repeated, first_page: false }
}

pub fn geometric_page(page: &Page, ctx: &DocContext) -> PageLayout {
    let regions = geometric::analyze_page(page, ctx);
    PageLayout {
        page: page.page,
        width: page.width,
        height: page.height,
        regions: in_reading_order(page, regions),
        error: None,
    }
}

/// Detector regions for a page image; the page's words (if any) go to the region that holds
/// their centre.
pub fn detector_page(page: &Page, img: &RgbImage) -> Result<PageLayout> {
    let found = detector::detect(img)?;
    let scale = page.width / img.width().max(1) as f32;
    let mut regions: Vec<Region> = found
        .into_iter()
        .map(|(label, d)| {
            let b = d.bbox.map(|v| v * scale);
            Region::new(
                label,
                BBox::new(b[0], b[1], b[2], b[3]),
                vec![],
                String::new(),
                d.score,
                RegionSource::Detector,
            )
        })
        .collect();
    for (i, w) in page.words.iter().enumerate() {
        let c = w.bbox.center();
        let home = regions
            .iter_mut()
            .filter(|r| r.bbox.contains_point(c))
            .min_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        if let Some(r) = home {
            r.words.push(i as u32);
        }
    }
    let mut regions = in_reading_order(page, regions);
    for r in &mut regions {
        r.text = geometric::text_of(&page.words, &r.words);
    }
    Ok(PageLayout { page: page.page, width: page.width, height: page.height, regions, error: None })
}

/// Regions sorted by where their first word comes in the page's reading order (words inside a
/// region too). A region without words goes before the first line that starts below its top
/// edge and overlaps it horizontally; failing that, by position, top to bottom.
pub fn in_reading_order(page: &Page, mut regions: Vec<Region>) -> Vec<Region> {
    let mut position = vec![usize::MAX; page.words.len()];
    for (k, &w) in page.lines.iter().flat_map(|l| &l.words).enumerate() {
        if let Some(p) = position.get_mut(w as usize) {
            *p = k;
        }
    }
    let total = position.len() as f32;
    let key = |r: &Region| -> f32 {
        // Running heads come first and page footers last, whatever column they sit over.
        match r.label {
            Label::PageHeader => return -1.0 + r.bbox.x0 / 1e6,
            Label::PageFooter => return 2.0 * total + 2.0 + r.bbox.x0 / 1e6,
            _ => {}
        }
        if let Some(k) = r.words.iter().map(|&w| position[w as usize]).filter(|&k| k != usize::MAX).min() {
            return k as f32;
        }
        let mut k = 0usize;
        for l in &page.lines {
            if l.bbox.y0 >= r.bbox.y0 - 1.0 && l.bbox.h_overlap(&r.bbox) > 0.0 {
                return k as f32 - 0.5;
            }
            k += l.words.len();
        }
        total + r.bbox.y0 / page.height.max(1.0)
    };
    let mut keyed: Vec<(f32, Region)> = regions
        .drain(..)
        .map(|mut r| {
            r.words.sort_by_key(|&w| position[w as usize]);
            (key(&r), r)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.bbox.y0.total_cmp(&b.1.bbox.y0)));
    keyed
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut r))| {
            r.order = i as u32;
            r
        })
        .collect()
}

/// Count of regions per label, for summaries.
pub fn label_counts(layouts: &[PageLayout]) -> Vec<(Label, usize)> {
    Label::ALL
        .iter()
        .map(|&l| (l, layouts.iter().flat_map(|p| &p.regions).filter(|r| r.label == l).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}
