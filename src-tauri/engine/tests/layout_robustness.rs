//! Layout analysis on awkward pages, built in memory (no pdfium needed): no words, 100,000
//! words, overlapping and zero-size boxes, NaN coordinates. Each gives a clear result and
//! every word lands in at most one region.

use pagewise_engine::layout::analyze::{analyze_document, context, geometric_page, Pixels};
use pagewise_engine::read::order;
use pagewise_engine::{BBox, Error, Graphics, LayoutMode, Page, PageLayout, PageSource, Word};

fn page_of(words: Vec<Word>) -> Page {
    let (lines, text) = order::arrange(&words);
    Page {
        page: 1,
        width: 595.0,
        height: 842.0,
        rotation: 0,
        turned: 0,
        photo_corners: None,
        source: if words.is_empty() { PageSource::NeedsReader } else { PageSource::TextLayer },
        text,
        words,
        lines,
        graphics: Graphics::default(),
        error: None,
    }
}

fn word(text: &str, x: f32, y: f32, w: f32, h: f32) -> Word {
    Word { text: text.into(), bbox: BBox::new(x, y, x + w, y + h), size: h * 0.8, bold: false }
}

fn each_word_at_most_once(layout: &PageLayout, words: usize) {
    let mut seen = vec![false; words];
    for r in &layout.regions {
        for &w in &r.words {
            assert!(!seen[w as usize], "word {w} is in two regions");
            seen[w as usize] = true;
        }
    }
}

#[test]
fn a_page_without_words_has_no_regions() {
    let page = page_of(vec![]);
    let layout = geometric_page(&page, &context(std::slice::from_ref(&page)));
    assert!(layout.regions.is_empty() && layout.error.is_none());
}

#[test]
fn a_hundred_thousand_words_are_analysed() {
    // 250 rows of 400 tiny words: a dense page (a data dump, a map legend).
    let words: Vec<Word> =
        (0..100_000).map(|i| word("w", (i % 400) as f32 * 1.4, 20.0 + (i / 400) as f32 * 3.2, 1.0, 2.5)).collect();
    let page = page_of(words);
    let layout = geometric_page(&page, &context(std::slice::from_ref(&page)));
    assert!(!layout.regions.is_empty());
    each_word_at_most_once(&layout, page.words.len());
    let placed: usize = layout.regions.iter().map(|r| r.words.len()).sum();
    assert_eq!(placed, 100_000, "every word is in a region");
}

#[test]
fn overlapping_zero_size_and_nan_boxes_do_not_break_analysis() {
    let mut words = Vec::new();
    for i in 0..30 {
        // The same text drawn twice at the same place (fake bold, duplicated text objects).
        let y = 100.0 + 14.0 * i as f32;
        words.push(word("overlapping", 72.0, y, 60.0, 10.0));
        words.push(word("overlapping", 72.0, y, 60.0, 10.0));
        words.push(word("text", 140.0, y, 25.0, 10.0));
    }
    words.push(word("point", 300.0, 300.0, 0.0, 0.0));
    words.push(Word {
        text: "nan".into(),
        bbox: BBox { x0: f32::NAN, y0: 10.0, x1: f32::NAN, y1: 20.0 },
        size: 10.0,
        bold: false,
    });
    let page = page_of(words);
    let layout = geometric_page(&page, &context(std::slice::from_ref(&page)));
    assert!(layout.error.is_none());
    each_word_at_most_once(&layout, page.words.len());
    let orders: Vec<u32> = layout.regions.iter().map(|r| r.order).collect();
    assert_eq!(orders, (0..layout.regions.len() as u32).collect::<Vec<_>>(), "orders count up from 0");
}

#[test]
fn a_failing_page_is_recorded_and_the_others_are_analysed() {
    let text = page_of(
        (0..20)
            .map(|i| word("word", 72.0 + 40.0 * (i % 5) as f32, 100.0 + 14.0 * (i / 5) as f32, 30.0, 10.0))
            .collect(),
    );
    let mut scan = page_of(vec![]);
    scan.page = 2;
    let pages = vec![text, scan];
    // Neither the detector nor its pixels can be had: page 2 records the error, page 1 is analysed.
    let no_pixels = |_| Err(Error::Internal { path: "scan".into(), detail: "no pixels".into() });
    let no_detector = || Err(Error::Internal { path: "scan".into(), detail: "no detector".into() });
    let layouts = analyze_document(&pages, LayoutMode::Auto, &Pixels { image_of: &no_pixels, detector: &no_detector });
    assert_eq!(layouts.len(), 2);
    assert!(layouts[0].error.is_none() && !layouts[0].regions.is_empty());
    let err = layouts[1].error.as_ref().expect("page 2 failed");
    // The model is asked for first (without it no page is drawn for nothing), so its error is kept.
    assert!(err.message.contains("no detector"), "{err:?}");
}
