//! Layout per document: which analyzer runs on which page, what the pages share (body text
//! size, headers and footers repeated at the edges), and the regions' reading order. A page
//! that fails keeps its error; the other pages are still analysed.

use std::collections::{HashMap, HashSet};

use image::RgbImage;
use rayon::prelude::*;

use super::detector::{self, PicoDet};
use super::fuse::fuse;
use super::geometric::{self, DocContext, EDGE_BAND};
use super::pairs::{self, PairModel};
use super::text_shapes::signature;
use crate::model::{BBox, KeyValue, Label, LayoutMode, Page, PageLayout, PageSource, Region, RegionSource};
use crate::{Error, Result};

/// Bumped whenever an analyzer changes what it produces, so cached layouts are redone.
pub const ANALYZER_VERSION: u32 = 6;
/// The least share of a document's letters in capitals for its body to be set in capitals.
const CAPS_BODY: f32 = 0.7;
/// Pixels on the longer side of a PDF page rendered for the detector (its input is 800 high).
pub const DETECTOR_PIXELS: f32 = 1000.0;

/// Does `mode` send `page` to the detector rather than the geometric analyzer?
pub fn uses_detector(mode: LayoutMode, page: &Page) -> bool {
    match mode {
        LayoutMode::Detector => true,
        LayoutMode::Geometric => false,
        // Pages read from pixels get the analyzer that reads pixels.
        LayoutMode::Auto => matches!(page.source, PageSource::NeedsReader | PageSource::Ocr | PageSource::Vlm),
    }
}

/// What the detector needs for a page, each fetched only when a page needs it: the page's
/// pixels and the model.
pub struct Pixels<'a> {
    /// Page `no` drawn for the detector (a PDF page [`DETECTOR_PIXELS`] on its longer side).
    pub image_of: &'a dyn Fn(u32) -> Result<RgbImage>,
    pub detector: &'a dyn Fn() -> Result<&'static PicoDet>,
}

#[cfg(any(test, feature = "dev-api"))] // the whole document at once: benchmarks and tests
/// Analyse a document's pages.
pub fn analyze_document(pages: &[Page], mode: LayoutMode, pixels: &Pixels) -> Vec<PageLayout> {
    analyze_pages(pages, &|_| true, mode, pixels)
}

/// Analyse the pages of a document that `needed(page)` names, with what all its pages share.
pub fn analyze_pages(
    pages: &[Page],
    needed: &(dyn Fn(u32) -> bool + Sync),
    mode: LayoutMode,
    pixels: &Pixels,
) -> Vec<PageLayout> {
    let ctx = context(pages);
    let first = first_text_page(pages);
    let geometric: Vec<PageLayout> = pages
        .par_iter()
        .filter(|p| needed(p.page) && (!uses_detector(mode, p) || p.source == PageSource::Failed))
        .map(|p| guarded(p, || Ok(geometric_page(p, &DocContext { first_page: p.page == first, ..ctx.clone() }))))
        .collect();
    let mut by_page: HashMap<u32, PageLayout> = geometric.into_iter().map(|l| (l.page, l)).collect();
    // Forms are read from pixels (the forms model was fitted on scans); found first, so that a
    // fused page lays its pairs out. A panic costs the page its key-values, not its layout.
    let mut pairs: HashMap<u32, Vec<KeyValue>> = pages
        .par_iter()
        .filter(|p| needed(p.page) && p.source.read_from_pixels())
        .map(|p| (p.page, std::panic::catch_unwind(|| pairs::find(p, PairModel::bundled())).unwrap_or_default()))
        .collect();
    for p in pages.iter().filter(|p| needed(p.page) && uses_detector(mode, p) && p.source != PageSource::Failed) {
        // The model first: without it, no page is drawn for nothing.
        let layout = guarded(p, || {
            let model = (pixels.detector)()?;
            let img = (pixels.image_of)(p.page)?;
            // The detector alone where it is asked for, or where there are no words yet.
            match (mode, pairs.get(&p.page)) {
                (LayoutMode::Auto, Some(found)) => {
                    fused_page(p, &img, model, &DocContext { first_page: p.page == first, ..ctx.clone() }, found)
                }
                _ => detector_page(p, &img, model),
            }
        });
        by_page.insert(p.page, layout);
    }
    let laid_out = pages.iter().filter_map(|p| by_page.remove(&p.page));
    laid_out
        .map(|mut layout| {
            if layout.error.is_none() {
                layout.pairs = pairs.remove(&layout.page).unwrap_or_default();
            }
            layout
        })
        .collect()
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
            pairs: vec![],
            error: Some(err.clone()),
        };
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(Error::Page {
            doc: "this document".into(),
            page: page.page,
            detail: format!("layout analysis failed: {}", crate::model::panic_message(panic)),
        })
    });
    outcome.unwrap_or_else(|e| PageLayout {
        page: page.page,
        width: page.width,
        height: page.height,
        regions: vec![],
        pairs: vec![],
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
    let letters = pages.iter().flat_map(|p| &p.words).flat_map(|w| w.text.chars()).filter(|c| c.is_alphabetic());
    let (capitals, all) = letters.fold((0usize, 0usize), |(c, n), ch| (c + ch.is_uppercase() as usize, n + 1));
    let caps_body = all > 0 && capitals as f32 >= CAPS_BODY * all as f32;
    let mut seen: HashMap<String, HashSet<u32>> = HashMap::new();
    for p in pages {
        // Blocks and their lines alone: a running head may share its block with what lies
        // under it on some pages (a figure's labels), and not on others.
        let blocks = geometric::blocks(p);
        let lines = blocks.iter().filter(|b| b.len() > 1).flat_map(|b| b.iter().map(|&l| vec![l]));
        for block in blocks.iter().cloned().chain(lines) {
            let bbox = block.iter().skip(1).fold(p.lines[block[0]].bbox, |acc, &l| acc.union(&p.lines[l].bbox));
            if bbox.y1 <= p.height * EDGE_BAND || bbox.y0 >= p.height * (1.0 - EDGE_BAND) {
                let text: Vec<&str> = block
                    .iter()
                    .flat_map(|&l| p.lines[l].words.iter().map(|&w| p.words[w as usize].text.as_str()))
                    .collect();
                seen.entry(signature(&text.join(" "))).or_default().insert(p.page);
            }
        }
    }
    let needed = ((pages.len() as f32 * 0.3).ceil() as usize).max(2);
    let repeated = seen.into_iter().filter(|(_, on)| on.len() >= needed).map(|(sig, _)| sig).collect();
    DocContext { body_size, repeated, first_page: false, read_from_pixels: false, caps_body }
}

pub fn geometric_page(page: &Page, ctx: &DocContext) -> PageLayout {
    let regions = geometric::analyze_page(page, ctx);
    PageLayout {
        page: page.page,
        width: page.width,
        height: page.height,
        regions: in_reading_order(page, regions),
        pairs: vec![],
        error: None,
    }
}

/// A page read from pixels: the detector's regions fused with the geometric analysis of its
/// OCR lines and the forms model's `pairs` (see [`fuse`]).
pub fn fused_page(
    page: &Page,
    img: &RgbImage,
    model: &PicoDet,
    ctx: &DocContext,
    pairs: &[KeyValue],
) -> Result<PageLayout> {
    let regions = in_reading_order(page, fuse(page, ctx, &detected_regions(page, img, model)?, pairs));
    Ok(PageLayout { page: page.page, width: page.width, height: page.height, regions, pairs: vec![], error: None })
}

/// Detector regions for a page image; the page's words (if any) go to the region that holds
/// their centre.
pub fn detector_page(page: &Page, img: &RgbImage, model: &PicoDet) -> Result<PageLayout> {
    let mut regions = detected_regions(page, img, model)?;
    words_to_regions(page, &mut regions);
    let mut regions = in_reading_order(page, regions);
    for r in &mut regions {
        r.text = geometric::text_of(&page.words, &r.words);
    }
    Ok(PageLayout { page: page.page, width: page.width, height: page.height, regions, pairs: vec![], error: None })
}

/// Each word of the page to the smallest of `regions` that holds its centre; each region's
/// words in the page's reading order.
pub fn words_to_regions(page: &Page, regions: &mut [Region]) {
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
    let position = reading_positions(page);
    for r in regions {
        r.words.sort_by_key(|&w| position[w as usize]);
    }
}

/// Each word's place in the page's reading order (its lines'), usize::MAX for a word on no line.
fn reading_positions(page: &Page) -> Vec<usize> {
    let mut position = vec![usize::MAX; page.words.len()];
    for (k, &w) in page.lines.iter().flat_map(|l| &l.words).enumerate() {
        if let Some(p) = position.get_mut(w as usize) {
            *p = k;
        }
    }
    position
}

/// What the detector sees on a page image, in page points, without words.
fn detected_regions(page: &Page, img: &RgbImage, model: &PicoDet) -> Result<Vec<Region>> {
    let scale = page.width / img.width().max(1) as f32;
    let found = detector::detect(model, img)?;
    Ok(found
        .into_iter()
        .filter_map(|(label, d)| {
            let bbox = page_box(d.bbox, scale, page)?;
            Some(Region::new(label, bbox, vec![], String::new(), d.score, RegionSource::Detector))
        })
        .collect())
}

/// A detector box in page points, clipped to the page; none for a box that is not numbers or
/// has no area.
fn page_box(b: [f32; 4], scale: f32, page: &Page) -> Option<BBox> {
    let scaled = b.map(|v| v * scale);
    if !scaled.iter().all(|v| v.is_finite()) {
        return None;
    }
    let [x0, y0, x1, y1] = scaled;
    let (x0, y0, x1, y1) = (x0.max(0.0), y0.max(0.0), x1.min(page.width), y1.min(page.height));
    (x1 > x0 && y1 > y0).then(|| BBox::new(x0, y0, x1, y1))
}

/// Regions sorted by where their first word comes in the page's reading order (words inside a
/// region too). A region without words goes before the first line that starts below its top
/// edge and overlaps it horizontally; failing that, by position, top to bottom.
pub fn in_reading_order(page: &Page, mut regions: Vec<Region>) -> Vec<Region> {
    let position = reading_positions(page);
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

/// Adds a text region for each block of the page's words that no detected region holds (text the
/// detector missed), so that the model reads the whole page; then puts the regions in reading
/// order.
pub fn cover_unplaced_words(layout: &mut PageLayout, page: &Page) {
    let mut held = vec![false; page.words.len()];
    for r in &layout.regions {
        for &w in &r.words {
            held[w as usize] = true;
        }
    }
    let mut blocks: Vec<(u32, BBox, Vec<u32>)> = Vec::new();
    for line in &page.lines {
        for &w in line.words.iter().filter(|&&w| !held[w as usize]) {
            let b = page.words[w as usize].bbox;
            match blocks.iter_mut().find(|(block, _, _)| *block == line.block) {
                Some((_, area, words)) => {
                    *area = area.union(&b);
                    words.push(w);
                }
                None => blocks.push((line.block, b, vec![w])),
            }
        }
    }
    if blocks.is_empty() {
        return;
    }
    let mut regions = std::mem::take(&mut layout.regions);
    regions.extend(
        blocks
            .into_iter()
            .map(|(_, area, words)| Region::new(Label::Text, area, words, String::new(), 1.0, RegionSource::Geometric)),
    );
    layout.regions = in_reading_order(page, regions);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_boxes_are_clipped_to_the_page_and_boxes_that_are_not_numbers_dropped() {
        let page = Page::of_words(PageSource::Ocr, vec![], vec![]);
        assert_eq!(page_box([-5.0, 10.0, 400.0, 900.0], 2.0, &page), Some(BBox::new(0.0, 20.0, 600.0, 800.0)));
        assert_eq!(page_box([f32::NAN, 0.0, 10.0, 10.0], 1.0, &page), None);
        assert_eq!(page_box([0.0, 0.0, f32::INFINITY, 10.0], 1.0, &page), None);
        assert_eq!(page_box([10.0, 10.0, 10.0, 20.0], 1.0, &page), None);
        assert_eq!(page_box([700.0, 10.0, 900.0, 20.0], 1.0, &page), None);
    }
}
