//! Pages read from pixels (scans, photos): the detector's regions fused with the geometric
//! analysis of the OCR lines. The detector sees what a picture, a table or a paragraph looks
//! like; the OCR lines say where the text is. Its pictures are kept only where little text lies
//! on them (a scanned form or a photographed receipt the detector calls one picture is text),
//! its tables where their words make a grid; the forms model's confident pairs on one row become
//! key-value lines; its text-like regions (paragraphs, titles, lists, captions, headers,
//! footers, formulas) take the words they hold; every word left is laid out by the geometric
//! analysis (blocks, titles, lists, tables), so no word goes without a region. On a page of
//! prose, a short line standing alone over a wider text is a heading (OCR sees no weight).

use super::geometric::{self, take, text_ink, text_of, words_in, DocContext, PICTURE_MAX_INK};
use super::tables;
use crate::model::{BBox, KeyValue, Label, Page, Region, RegionSource, Word};

/// The most of a page's words a picture may hold: a figure is part of a page; a "picture"
/// holding most of the words is the scanned page itself.
const PICTURE_MAX_WORDS: f32 = 0.5;
/// The least confidence of a pair shown as a key-value line (every pair stays a key-value).
const LINE_CONFIDENCE: f32 = 0.5;
/// The least median of words a line for a page to be prose (a receipt's or a form's lines are
/// shorter).
const PROSE_LINE_WORDS: usize = 5;

/// The regions of a page read from pixels, from the detector's `detected` regions (page
/// points, no words yet) and the forms model's `pairs` (which stay the page's pairs: a
/// key-value line is where one is drawn, not a second copy of it).
pub fn fuse(page: &Page, ctx: &DocContext, detected: &[Region], pairs: &[KeyValue]) -> Vec<Region> {
    let words = &page.words;
    let mut taken = vec![false; words.len()];
    let mut regions = Vec::new();
    for d in detected.iter().filter(|d| d.label == Label::Picture) {
        let inside = words_in(words, &taken, &d.bbox);
        let sparse = text_ink(words, &inside) <= PICTURE_MAX_INK * d.bbox.area();
        if sparse && inside.len() as f32 <= PICTURE_MAX_WORDS * words.len() as f32 {
            regions.push(claim(words, &mut taken, d, inside));
        }
    }
    for d in detected.iter().filter(|d| d.label == Label::Table) {
        let inside = words_in(words, &taken, &d.bbox);
        let cells = tables::grid(words, &inside, &page.graphics.rules, &d.bbox);
        if tables::is_grid(&cells) {
            let mut table = claim(words, &mut taken, d, inside);
            table.text = tables::cells_text(&cells);
            table.cells = Some(cells);
            regions.push(table);
        }
    }
    regions.extend(pairs.iter().filter_map(|pair| key_value_line(words, &mut taken, pair)));
    // Smaller regions first: a caption or title inside a larger detected block keeps its words.
    let mut texts: Vec<&Region> =
        detected.iter().filter(|d| !matches!(d.label, Label::Picture | Label::Table)).collect();
    texts.sort_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
    for d in texts {
        let inside = words_in(words, &taken, &d.bbox);
        if !inside.is_empty() {
            regions.push(claim(words, &mut taken, d, inside));
        }
    }
    let ctx = DocContext { read_from_pixels: true, ..ctx.clone() };
    let mut regions = geometric::analyze_rest(page, &ctx, taken, regions);
    headings_by_shape(page, &mut regions);
    regions
}

/// OCR sees no weight and little size: on a page of prose, a short line of text standing alone,
/// not ending a sentence, right above a wider text in its column ("Funding" over "There was no
/// funding for this study.") is a heading. Not on pages of short lines (receipts, forms), where
/// most lines stand so.
fn headings_by_shape(page: &Page, regions: &mut [Region]) {
    let mut per_line: Vec<usize> = page.lines.iter().map(|l| l.words.len()).collect();
    per_line.sort_unstable();
    if per_line.get(per_line.len() / 2).is_none_or(|&n| n < PROSE_LINE_WORDS) {
        return;
    }
    let mut heights: Vec<f32> = page.words.iter().map(|w| w.bbox.height()).collect();
    heights.sort_by(f32::total_cmp);
    let line = heights[heights.len() / 2];
    // Where the words lie: a detected region's box may run wider than its text.
    let texts: Vec<(usize, BBox, bool)> = regions
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.label, Label::Text | Label::ListItem) && !r.words.is_empty())
        .map(|(k, r)| {
            let span = r.words.iter().map(|&w| page.words[w as usize].bbox).reduce(|a, b| a.union(&b)).unwrap();
            (k, span, r.text.trim_end().ends_with(['.', ':', ';', ',']))
        })
        .collect();
    for &(k, b, ends) in &texts {
        let r = &regions[k];
        let words = r.words.len();
        let capital = r.text.chars().next().is_some_and(char::is_uppercase);
        if r.label != Label::Text || ends || !capital || words > 8 || b.height() > 1.8 * line {
            continue;
        }
        let below = texts.iter().find(|&&(j, o, _)| {
            j != k && o.y0 >= b.y1 - 0.3 * line && o.y0 - b.y1 < 1.5 * line && o.h_overlap(&b) > 0.5 * b.width()
        });
        if below.is_some_and(|&(_, o, o_ends)| o.width() > 1.5 * b.width() && (o_ends || o.height() > 1.8 * line)) {
            // Its box is its words', not the column-wide box the detector drew for a paragraph.
            regions[k].label = Label::SectionHeader;
            regions[k].bbox = b;
        }
    }
}

/// A detected region kept with the words on it.
fn claim(words: &[Word], taken: &mut [bool], detected: &Region, inside: Vec<u32>) -> Region {
    take(taken, &inside);
    let text = text_of(words, &inside);
    Region::new(detected.label, detected.bbox, inside, text, detected.confidence, RegionSource::Detector)
}

/// A confident pair whose key and value share a row, as a key-value region holding their words
/// (none for a key above its value, or words already taken).
fn key_value_line(words: &[Word], taken: &mut [bool], pair: &KeyValue) -> Option<Region> {
    let (k, v) = (pair.key_bbox, pair.value_bbox);
    let one_row = k.v_overlap(&v) >= 0.5 * k.height().min(v.height()).max(0.1) && k.x1 <= v.x0 + 1.0;
    let key = words_in(words, taken, &k);
    let value: Vec<u32> = words_in(words, taken, &v).into_iter().filter(|w| !key.contains(w)).collect();
    if !one_row || pair.confidence < LINE_CONFIDENCE || key.is_empty() || value.is_empty() {
        return None;
    }
    let members: Vec<u32> = key.into_iter().chain(value).collect();
    take(taken, &members);
    let text = text_of(words, &members);
    // Its boxes are the OCR words' (the forms model chose them).
    Some(Region::new(Label::KeyValue, k.union(&v), members, text, pair.confidence, RegionSource::Geometric))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Line, PageSource};

    /// A page read by OCR with one line per row of (text, x0, x1), rows 20 points apart.
    fn page(rows: &[&[(&str, f32, f32)]]) -> Page {
        let (mut words, mut lines) = (Vec::new(), Vec::new());
        for (r, row) in rows.iter().enumerate() {
            let y = 100.0 + 20.0 * r as f32;
            let ids: Vec<u32> = (words.len() as u32..(words.len() + row.len()) as u32).collect();
            for &(text, x0, x1) in row.iter() {
                words.push(Word { text: text.into(), bbox: BBox::new(x0, y, x1, y + 10.0), size: 10.0, bold: false });
            }
            let bbox = ids.iter().map(|&w| words[w as usize].bbox).reduce(|a: BBox, b| a.union(&b)).unwrap();
            lines.push(Line { words: ids, bbox, block: 0 });
        }
        Page::of_words(PageSource::Ocr, words, lines)
    }

    fn detected(label: Label, bbox: BBox) -> Region {
        Region::new(label, bbox, vec![], String::new(), 0.8, RegionSource::Detector)
    }

    #[test]
    fn a_picture_covered_in_text_is_text_and_a_sparse_one_keeps_its_words() {
        let rows: Vec<Vec<(&str, f32, f32)>> =
            (0..8).map(|_| vec![("many", 50.0, 150.0), ("words", 160.0, 260.0), ("here", 270.0, 370.0)]).collect();
        let refs: Vec<&[(&str, f32, f32)]> = rows.iter().map(|r| r.as_slice()).collect();
        let p = page(&refs);
        let whole = detected(Label::Picture, BBox::new(40.0, 90.0, 380.0, 270.0));
        let regions = fuse(&p, &DocContext::default(), &[whole], &[]);
        assert!(regions.iter().all(|r| r.label != Label::Picture), "{regions:?}");
        assert_eq!(regions.iter().map(|r| r.words.len()).sum::<usize>(), 24);

        // A logo on a page of text: the picture keeps its one word, the text is text.
        let logo = detected(Label::Picture, BBox::new(40.0, 90.0, 580.0, 115.0));
        let p = page(&[&[("ACME", 50.0, 90.0)], &[("Dear", 50.0, 90.0), ("Sir", 100.0, 130.0)]]);
        let regions = fuse(&p, &DocContext::default(), &[logo.clone()], &[]);
        let picture = regions.iter().find(|r| r.label == Label::Picture).expect("the logo");
        assert_eq!(picture.words, vec![0]);
        assert_eq!(regions.iter().map(|r| r.words.len()).sum::<usize>(), 3);
        // The same picture over most of the page's words is the scanned page itself.
        let p = page(&[&[("ACME", 50.0, 90.0)]]);
        let regions = fuse(&p, &DocContext::default(), &[logo], &[]);
        assert_eq!(regions.len(), 1);
        assert_ne!(regions[0].label, Label::Picture);
        assert_eq!(regions[0].words, vec![0]);
    }

    #[test]
    fn a_detected_table_with_a_grid_keeps_its_cells_and_an_empty_one_is_dropped() {
        let p = page(&[
            &[("Item", 50.0, 100.0), ("Qty", 300.0, 330.0)],
            &[("Tea", 50.0, 80.0), ("2", 300.0, 310.0)],
            &[("Milk", 50.0, 90.0), ("1", 300.0, 310.0)],
        ]);
        let table = detected(Label::Table, BBox::new(40.0, 95.0, 340.0, 160.0));
        let nothing = detected(Label::Table, BBox::new(40.0, 500.0, 340.0, 600.0));
        let regions = fuse(&p, &DocContext::default(), &[table, nothing], &[]);
        let tables: Vec<&Region> = regions.iter().filter(|r| r.label == Label::Table).collect();
        assert_eq!(tables.len(), 1, "{regions:?}");
        assert_eq!(tables[0].grid_size(), Some((3, 2)));
        assert_eq!(tables[0].words.len(), 6);
    }

    #[test]
    fn a_confident_pair_on_one_row_is_a_key_value_line() {
        let p = page(&[
            &[("Date:", 50.0, 100.0), ("9/3/92", 200.0, 260.0)],
            &[("Name:", 50.0, 100.0)],
            &[("Ann", 50.0, 80.0)],
            &[("Fax:", 50.0, 100.0), ("none", 200.0, 260.0)],
        ]);
        let kv = |k: usize, v: usize, confidence: f32| KeyValue {
            key: p.words[k].text.trim_end_matches(':').into(),
            value: p.words[v].text.clone(),
            key_bbox: p.words[k].bbox,
            value_bbox: p.words[v].bbox,
            confidence,
        };
        // A key above its value, and an unsure pair, are pairs of the page but no line.
        let regions = fuse(&p, &DocContext::default(), &[], &[kv(0, 1, 0.7), kv(2, 3, 0.7), kv(4, 5, 0.2)]);
        let lines: Vec<&Region> = regions.iter().filter(|r| r.label == Label::KeyValue).collect();
        assert_eq!(lines.len(), 1, "{regions:?}");
        assert_eq!((lines[0].words.clone(), lines[0].text.as_str()), (vec![0, 1], "Date: 9/3/92"));
        // No second copy of the pair: the page's pairs have it.
        assert!(lines[0].pair.is_none());
        // Every word has a region.
        assert_eq!(regions.iter().map(|r| r.words.len()).sum::<usize>(), 6);
    }

    #[test]
    fn a_short_line_over_a_wider_text_is_a_heading_on_a_page_of_prose_only() {
        let sentence: &[(&str, f32, f32)] = &[
            ("There", 50.0, 90.0),
            ("was", 95.0, 120.0),
            ("no", 125.0, 140.0),
            ("funding", 145.0, 200.0),
            ("at", 205.0, 220.0),
            ("all.", 225.0, 250.0),
        ];
        let prose: &[(&str, f32, f32)] = &[
            ("We", 50.0, 70.0),
            ("thank", 75.0, 110.0),
            ("the", 115.0, 135.0),
            ("patients", 140.0, 200.0),
            ("for", 205.0, 225.0),
            ("joining.", 230.0, 280.0),
        ];
        let p = page(&[prose, &[("Funding", 50.0, 100.0)], sentence]);
        // The detector's boxes run the column's width; one per line.
        let boxes: Vec<Region> = (0..3)
            .map(|r| detected(Label::Text, BBox::new(40.0, 98.0 + 20.0 * r as f32, 300.0, 112.0 + 20.0 * r as f32)))
            .collect();
        let regions = fuse(&p, &DocContext::default(), &boxes, &[]);
        let heading = regions.iter().find(|r| r.words == vec![6]).unwrap();
        assert_eq!((heading.label, heading.bbox), (Label::SectionHeader, p.words[6].bbox));
        assert!(regions.iter().filter(|r| r.words != vec![6]).all(|r| r.label == Label::Text), "{regions:?}");
        // On a receipt's short lines, a short line is no heading.
        let p =
            page(&[&[("TOTAL", 50.0, 100.0)], &[("CASH", 50.0, 90.0), ("50.00", 200.0, 240.0), ("RM", 250.0, 270.0)]]);
        let regions = fuse(&p, &DocContext::default(), &boxes[..2], &[]);
        assert!(regions.iter().all(|r| r.label == Label::Text), "{regions:?}");
    }

    #[test]
    fn detected_text_regions_take_their_words_and_the_rest_is_laid_out_from_the_lines() {
        let p = page(&[
            &[("Annual", 50.0, 120.0), ("report", 130.0, 200.0)],
            &[("Sales", 50.0, 100.0), ("rose", 110.0, 150.0)],
        ]);
        let title = detected(Label::SectionHeader, BBox::new(40.0, 95.0, 210.0, 115.0));
        let regions = fuse(&p, &DocContext::default(), &[title], &[]);
        assert_eq!(regions.len(), 2, "{regions:?}");
        assert_eq!(
            (regions[0].label, regions[0].source, regions[0].words.clone()),
            (Label::SectionHeader, RegionSource::Detector, vec![0, 1])
        );
        assert_eq!((regions[1].source, regions[1].words.clone()), (RegionSource::Geometric, vec![2, 3]));
    }
}
