//! The geometric layout analyzer: regions from a page's text layer, with no model.
//!
//! The reading-order stage ([`crate::read::order`]) has already cut the page into columns and
//! blocks (XY-cut) and put its lines in reading order. From there: pictures (embedded images,
//! clusters of vector drawing) take the words drawn on them; tables (areas framed by rules, runs
//! of rows with aligned cells) take theirs and get a grid; label/value pairs become Key-Value
//! regions; the remaining blocks are labelled from their font size and weight relative to the
//! body text, their position (repeated at the page edges: header/footer) and their first words
//! (captions, list markers, formulas), and split where headings, formulas, list items or
//! "Label: value" lines run into them.

use super::joins;
use super::tables::{self, Row};
use super::text_shapes::{
    inline_label, is_caption_start, is_formula, is_heading, is_list_marker, is_page_number, is_section_number,
    is_wordless, signature, Setting,
};
use crate::model::{BBox, KeyValue, Label, Page, Region, RegionSource, Word};

/// What the analyzer knows about the whole document.
#[derive(Debug, Clone, Default)]
pub struct DocContext {
    /// The body text size (the most common word size, by characters).
    pub body_size: f32,
    /// Normalised texts that repeat at the top or bottom edge across pages.
    pub repeated: std::collections::HashSet<String>,
    /// Whether this page is the document's first (where the title is).
    pub first_page: bool,
    /// The page was read from its pixels (a scan, a photo): its key-values come from the forms
    /// model (the rules' label/value pairs are not made, their lines stay text), and the image
    /// it carries is the scan itself, not a picture on it.
    pub read_from_pixels: bool,
    /// The body text is set in capitals (a receipt, a telex): capitals set no heading apart.
    pub caps_body: bool,
}

/// The most of a picture's area the words on it may cover: a chart's labels or a logo's letters
/// are sparse, a page of text (a scan with an invisible text layer) is not.
pub(crate) const PICTURE_MAX_INK: f32 = 0.15;

/// Share of the page height at the top and bottom where headers and footers sit.
pub const EDGE_BAND: f32 = 0.12;
const PAGE_NUMBER_BAND: f32 = 0.16;

pub fn analyze_page(page: &Page, ctx: &DocContext) -> Vec<Region> {
    analyze_rest(page, ctx, vec![false; page.words.len()], Vec::new())
}

/// The analysis of the words not yet `taken`, beside `regions` found another way (on a page
/// read from pixels, the detector's regions and the forms model's key-value lines).
pub fn analyze_rest(page: &Page, ctx: &DocContext, mut taken: Vec<bool>, mut regions: Vec<Region>) -> Vec<Region> {
    let words = &page.words;
    let body = if ctx.body_size > 0.0 { ctx.body_size } else { median_size(words) };

    if !ctx.read_from_pixels {
        pictures(page, &mut taken, &mut regions);
    }
    tables_and_pairs(page, body, !ctx.read_from_pixels, &mut taken, &mut regions);
    for block in blocks(page) {
        let lines: Vec<usize> =
            block.into_iter().filter(|&l| page.lines[l].words.iter().any(|&w| !taken[w as usize])).collect();
        if !lines.is_empty() {
            label_block(page, ctx, body, &lines, &mut taken, &mut regions);
        }
    }
    joins::attach_formula_pieces(&mut regions, body);
    joins::continue_captions(&mut regions, body);
    regions
}

fn median_size(words: &[Word]) -> f32 {
    let mut s: Vec<f32> = words.iter().map(|w| if w.size > 0.0 { w.size } else { w.bbox.height() * 0.8 }).collect();
    if s.is_empty() {
        return 10.0;
    }
    s.sort_by(f32::total_cmp);
    s[s.len() / 2]
}

/// Blocks of consecutive lines, as indices into `page.lines`.
pub fn blocks(page: &Page) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, line) in page.lines.iter().enumerate() {
        match out.last_mut() {
            Some(b) if page.lines[*b.last().unwrap()].block == line.block => b.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// The words not yet taken whose centre lies in `area`.
pub(crate) fn words_in(words: &[Word], taken: &[bool], area: &BBox) -> Vec<u32> {
    (0..words.len() as u32)
        .filter(|&i| !taken[i as usize] && area.contains_point(words[i as usize].bbox.center()))
        .collect()
}

pub(crate) fn text_of(words: &[Word], members: &[u32]) -> String {
    members.iter().map(|&i| words[i as usize].text.as_str()).collect::<Vec<_>>().join(" ")
}

/// How much area the `members` words cover.
pub(crate) fn text_ink(words: &[Word], members: &[u32]) -> f32 {
    members.iter().map(|&i| words[i as usize].bbox.area()).sum()
}

pub(crate) fn take(taken: &mut [bool], members: &[u32]) {
    for &i in members {
        taken[i as usize] = true;
    }
}

/// Embedded images and vector drawings; text drawn densely over an image (a scan with an
/// invisible text layer, a shaded text box) is text, not part of a picture.
fn pictures(page: &Page, taken: &mut [bool], regions: &mut Vec<Region>) {
    let page_area = page.width * page.height;
    let g = &page.graphics;
    // (area, confidence, how much of it text may cover): a chart's labels are sparse, a
    // table drawn with shaded cells is dense.
    let candidates = g
        .pictures
        .iter()
        .map(|b| (b, 0.9, PICTURE_MAX_INK))
        .chain(g.drawings.iter().filter(|b| b.area() >= 0.01 * page_area).map(|b| (b, 0.7, 0.08)));
    let mut placed: Vec<BBox> = Vec::new();
    for (area, confidence, max_ink) in candidates {
        if area.area() < 0.002 * page_area || placed.iter().any(|p| p.overlap_area(area) > 0.8 * area.area()) {
            continue;
        }
        let inside = words_in(&page.words, taken, area);
        if text_ink(&page.words, &inside) > max_ink * area.area() {
            continue;
        }
        placed.push(*area);
        take(taken, &inside);
        let text = text_of(&page.words, &inside);
        regions.push(Region::new(Label::Picture, *area, inside, text, confidence, RegionSource::Geometric));
    }
}

/// Rows of the page: consecutive lines (in reading order) that share a row.
fn rows(page: &Page) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for (i, line) in page.lines.iter().enumerate() {
        match out.last_mut() {
            Some(r)
                if r.bbox.v_overlap(&line.bbox) >= 0.5 * r.bbox.height().min(line.bbox.height()).max(0.1)
                    && line.bbox.x0 >= r.bbox.x1 - 1.0 =>
            {
                r.lines.push(i);
                r.bbox = r.bbox.union(&line.bbox);
            }
            _ => out.push(Row { lines: vec![i], bbox: line.bbox }),
        }
    }
    out
}

fn tables_and_pairs(page: &Page, body: f32, rule_pairs: bool, taken: &mut [bool], regions: &mut Vec<Region>) {
    let words = &page.words;
    let mut areas: Vec<(BBox, f32)> = tables::ruled_areas(&page.graphics).into_iter().map(|a| (a, 0.9)).collect();
    let rows = rows(page);
    let x0 = |l: usize| page.lines[l].bbox.x0;
    let count = |l: usize| page.lines[l].words.len();
    for run in tables::aligned_runs(&rows, &x0, &count, body) {
        let r = &rows[run];
        // Two cells a row, labels on the left and values (or amounts) on the right: label/value
        // pairs, not a table.
        let two = r.iter().all(|row| row.lines.len() == 2);
        let labelled = r.iter().filter(|row| is_label(page, row.lines[0]) || is_name_and_amount(page, row)).count();
        if two && labelled * 2 > r.len() {
            for row in r.iter().filter(|_| rule_pairs) {
                pair_from_row(page, row, taken, regions);
            }
            continue;
        }
        // Aligned equations (an eqnarray) line up like a table but are mathematics.
        let row_text =
            |row: &Row| row.lines.iter().map(|&l| text_of(words, &page.lines[l].words)).collect::<Vec<_>>().join(" ");
        if r.iter().filter(|row| is_formula(&row_text(row))).count() * 2 >= r.len() {
            continue;
        }
        let area = r.iter().skip(1).fold(r[0].bbox, |acc, row| acc.union(&row.bbox));
        match areas.iter_mut().find(|(a, _)| a.overlap_area(&area) > 0.3 * area.area().min(a.area())) {
            Some((a, _)) => *a = a.union(&area),
            None => areas.push((area, 0.7)),
        }
    }
    for (area, confidence) in areas {
        let inside = words_in(words, taken, &area.grow(1.0));
        let cells = tables::grid(words, &inside, &page.graphics.rules, &area);
        if !tables::is_grid(&cells) {
            continue;
        }
        take(taken, &inside);
        let bbox = inside.iter().fold(area, |acc, &i| acc.union(&words[i as usize].bbox));
        let text = tables::cells_text(&cells);
        let mut region = Region::new(Label::Table, bbox, inside, text, confidence, RegionSource::Geometric);
        region.cells = Some(cells);
        regions.push(region);
    }
    // Label and value on one row, two pieces apart: "Invoice No:    123".
    for row in rows.iter().filter(|r| rule_pairs && r.lines.len() == 2 && is_label(page, r.lines[0])) {
        if row.lines.iter().all(|&l| page.lines[l].words.iter().all(|&w| !taken[w as usize])) {
            pair_from_row(page, row, taken, regions);
        }
    }
}

/// A short line piece that names a value: ends with ':' or is set in bold, not a number.
fn is_label(page: &Page, line: usize) -> bool {
    let ws = &page.lines[line].words;
    let last = &page.words[*ws.last().unwrap() as usize].text;
    let numeric = last.chars().filter(|c| c.is_ascii_digit()).count() * 2 > last.chars().count();
    // "III." or "2.1" before a heading, "1." before a list item: numbering, not a label.
    let first = &page.words[ws[0] as usize].text;
    let numbering = ws.len() == 1 && (is_section_number(first) || is_list_marker(first));
    let caption = is_caption_start(first, ws.get(1).map(|&w| page.words[w as usize].text.as_str()));
    ws.len() <= 5
        && !numeric
        && !numbering
        && !caption
        && (last.ends_with(':') || ws.iter().all(|&w| page.words[w as usize].bold))
}

/// "Total due    GBP 272.52": a short wordy label and a value with digits.
fn is_name_and_amount(page: &Page, row: &Row) -> bool {
    let text = |l: usize| text_of(&page.words, &page.lines[l].words);
    let (k, v) = (text(row.lines[0]), text(row.lines[1]));
    let digits = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).count();
    page.lines[row.lines[0]].words.len() <= 5
        && k.chars().filter(|c| c.is_alphabetic()).count() > digits(&k)
        && digits(&v) > 0
        && page.lines[row.lines[1]].words.len() <= 4
}

fn pair_from_row(page: &Page, row: &Row, taken: &mut [bool], regions: &mut Vec<Region>) {
    let (k, v) = (&page.lines[row.lines[0]], &page.lines[row.lines[1]]);
    // Two column heads side by side ("Number    Date" in bold) are labels both, not a pair.
    let digits = v.words.iter().any(|&w| page.words[w as usize].text.chars().any(|c| c.is_ascii_digit()));
    if is_label(page, row.lines[1]) && !digits {
        return;
    }
    // (If it is no pair, the row's words stay for its block.)
    push_pair(page, &k.words, k.bbox, &v.words, v.bbox, 0.8, taken, regions);
}

#[allow(clippy::too_many_arguments)]
fn push_pair(
    page: &Page,
    key: &[u32],
    key_bbox: BBox,
    value: &[u32],
    value_bbox: BBox,
    confidence: f32,
    taken: &mut [bool],
    regions: &mut Vec<Region>,
) -> bool {
    let key_text = text_of(&page.words, key);
    let value_text = text_of(&page.words, value);
    // Two labels side by side ("Seller:   Bill to:", heads of two blocks) pair with nothing.
    if value_text.trim_end().ends_with(':') {
        return false;
    }
    let members: Vec<u32> = key.iter().chain(value).copied().collect();
    take(taken, &members);
    let text = format!("{key_text} {value_text}");
    let mut region =
        Region::new(Label::KeyValue, key_bbox.union(&value_bbox), members, text, confidence, RegionSource::Geometric);
    region.pair = Some(KeyValue {
        key: key_text.trim_end_matches(':').trim().to_string(),
        value: value_text,
        key_bbox,
        value_bbox,
        confidence,
    });
    regions.push(region);
    true
}

/// The label of a block of text lines, split where list items or "Label: value" lines start.
fn label_block(
    page: &Page,
    ctx: &DocContext,
    body: f32,
    lines: &[usize],
    taken: &mut [bool],
    regions: &mut Vec<Region>,
) {
    let words = &page.words;
    let free = |l: usize| -> Vec<u32> { page.lines[l].words.iter().copied().filter(|&w| !taken[w as usize]).collect() };
    let all: Vec<u32> = lines.iter().flat_map(|&l| free(l)).collect();
    let bbox = all.iter().fold(words[all[0] as usize].bbox, |acc, &i| acc.union(&words[i as usize].bbox));
    let text = lines.iter().map(|&l| text_of(words, &free(l))).collect::<Vec<_>>().join("\n");
    let size = median_size(&all.iter().map(|&i| words[i as usize].clone()).collect::<Vec<_>>());
    let bold = all.iter().all(|&i| words[i as usize].bold);
    let n_words = all.len();
    let first = words[all[0] as usize].text.as_str();

    let rows = block_rows(page, lines).len();
    let near_edge = |band: f32| bbox.y1 <= page.height * band || bbox.y0 >= page.height * (1.0 - band);
    // A lone page number may sit a little further in than running heads do.
    let running = near_edge(EDGE_BAND) && ctx.repeated.contains(&signature(&text))
        || near_edge(PAGE_NUMBER_BAND) && is_page_number(&text);
    let (label, confidence) = if running && rows <= 2 {
        (if bbox.y1 <= page.height / 2.0 { Label::PageHeader } else { Label::PageFooter }, 0.9)
    } else if is_caption_start(first, all.get(1).map(|&i| words[i as usize].text.as_str())) {
        (Label::Caption, 0.85)
    } else if ctx.first_page && size >= 1.3 * body && rows <= 4 && bbox.y0 <= 0.4 * page.height {
        (Label::Title, 0.75)
    } else if is_heading(&text, rows, n_words, Setting { size, body, bold, caps_stand_out: !ctx.caps_body }, first) {
        (Label::SectionHeader, if size >= 1.15 * body { 0.85 } else { 0.7 })
    } else if rows <= 3 && is_formula(&text) {
        (Label::Formula, 0.6)
    } else if bbox.y0 >= 0.7 * page.height && size <= 0.92 * body {
        (Label::Footnote, 0.65)
    } else {
        (Label::Text, 0.8)
    };
    if label == Label::Text {
        split_text(page, ctx, body, lines, taken, regions);
        return;
    }
    take(taken, &all);
    regions.push(Region::new(label, bbox, all, text, confidence, RegionSource::Geometric));
}

/// Rows of a block: consecutive lines (segments) that share a baseline.
fn block_rows(page: &Page, lines: &[usize]) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for &l in lines {
        let b = page.lines[l].bbox;
        match rows.last_mut() {
            Some(r)
                if page.lines[*r.last().unwrap()].bbox.v_overlap(&b)
                    >= 0.5 * b.height().min(page.lines[r[0]].bbox.height()).max(0.1) =>
            {
                r.push(l)
            }
            _ => rows.push(vec![l]),
        }
    }
    rows
}

/// A text block as paragraphs, with the headings, displayed formulas, list items and
/// "Label: value" lines run into it split out, row by row.
fn split_text(
    page: &Page,
    ctx: &DocContext,
    body: f32,
    lines: &[usize],
    taken: &mut [bool],
    regions: &mut Vec<Region>,
) {
    let words = &page.words;
    let rule_pairs = !ctx.read_from_pixels;
    let rows: Vec<Vec<u32>> = block_rows(page, lines)
        .iter()
        .map(|r| {
            r.iter()
                .flat_map(|&l| page.lines[l].words.iter().copied())
                .filter(|&w| !taken[w as usize])
                .collect::<Vec<u32>>()
        })
        .filter(|ws| !ws.is_empty())
        .collect();
    let span =
        |m: &[u32]| m.iter().skip(1).fold(words[m[0] as usize].bbox, |acc, &i| acc.union(&words[i as usize].bbox));
    if let Some((key, value)) = label_above_value(words, &rows).filter(|_| rule_pairs) {
        if push_pair(page, &key, span(&key), &value, span(&value), 0.7, taken, regions) {
            return;
        }
    }
    let block = rows.iter().skip(1).fold(span(&rows[0]), |acc, r| acc.union(&span(r)));
    let width = rows.iter().map(|r| span(r).width()).fold(0.0, f32::max);
    // A list needs two markers in the block, unless its marker is a bullet sign.
    let markers = rows.iter().filter(|r| is_list_marker(&words[r[0] as usize].text)).count();
    let mut kinds: Vec<Label> = Vec::with_capacity(rows.len());
    for k in 0..rows.len() {
        let kind = {
            let ws = &rows[k];
            let texts: Vec<&str> = ws.iter().map(|&w| words[w as usize].text.as_str()).collect();
            let text = texts.join(" ");
            let first = texts[0];
            // A heading run into a block: set apart by capitals, weight or size, or numbered
            // ("4.1 Results") and short; after a finished sentence, before more text.
            let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
            let caps = !ctx.caps_body && letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase());
            let styled = caps
                || ws.iter().all(|&w| words[w as usize].bold)
                || median_size(&ws.iter().map(|&w| words[w as usize].clone()).collect::<Vec<_>>()) >= 1.15 * body;
            let numbered = is_section_number(first) && ws.len() >= 2 && span(ws).width() < 0.7 * width;
            // After a paragraph ends (a finished sentence or a short last line), or continuing
            // a heading that wraps.
            let wraps_heading = k > 0
                && kinds[k - 1] == Label::SectionHeader
                && styled
                && (k < 2 || kinds[k - 2] != Label::SectionHeader);
            let after_paragraph = k == 0
                || rows[k - 1].last().is_some_and(|&w| words[w as usize].text.ends_with(['.', ':', '!', '?']))
                || span(&rows[k - 1]).width() < 0.8 * width
                || wraps_heading;
            // A styled last row may end its paragraph; a numbered one, or the rest of a heading,
            // heads the next block.
            if ws.len() <= 16
                && (styled || numbered)
                && after_paragraph
                && (k + 1 < rows.len() || numbered || wraps_heading)
                // Its shape only: size and weight were weighed above (`styled`).
                && is_heading(
                    &text,
                    1,
                    ws.len(),
                    Setting { size: 0.0, body: 0.0, bold: true, caps_stand_out: true },
                    first,
                )
            {
                Label::SectionHeader
            } else if is_formula(&text) {
                Label::Formula
            } else if rule_pairs && inline_label(&texts).is_some() {
                Label::KeyValue
            } else if texts.len() >= 2
                && is_list_marker(first)
                && (markers >= 2 || !first.chars().any(|c| c.is_alphanumeric()))
            {
                Label::ListItem
            } else {
                Label::Text
            }
        };
        kinds.push(kind);
    }
    // Rows without a word beside a formula's rows are more of it: a fraction's lines, a
    // matrix's, big brackets.
    let wordless: Vec<bool> = rows.iter().map(|r| is_wordless(&text_of(words, r))).collect();
    for k in (0..rows.len()).chain((0..rows.len()).rev()) {
        let beside = |j: Option<usize>| j.and_then(|j| kinds.get(j)) == Some(&Label::Formula);
        if kinds[k] == Label::Text && wordless[k] && (beside(k.checked_sub(1)) || beside(Some(k + 1))) {
            kinds[k] = Label::Formula;
        }
    }
    // A line of a paragraph with numbers and signs in it, set from edge to edge between two
    // lines of text; a displayed formula is set in, or stands apart.
    for k in 1..rows.len().saturating_sub(1) {
        let b = span(&rows[k]);
        let edge_to_edge = b.x0 - block.x0 < body && block.x1 - b.x1 < body;
        if kinds[k] == Label::Formula && kinds[k - 1] == Label::Text && kinds[k + 1] == Label::Text && edge_to_edge {
            kinds[k] = Label::Text;
        }
    }
    let mut k = 0;
    while k < rows.len() {
        if kinds[k] == Label::KeyValue {
            let texts: Vec<&str> = rows[k].iter().map(|&w| words[w as usize].text.as_str()).collect();
            let (kw, vw) = rows[k].split_at(inline_label(&texts).unwrap());
            if push_pair(page, kw, span(kw), vw, span(vw), 0.75, taken, regions) {
                k += 1;
                continue;
            }
            // Not a pair after all: the row is text.
            kinds[k] = Label::Text;
        }
        // A list item runs on over the plain rows after it; other kinds group with their own.
        let mut end = k + 1;
        while end < rows.len()
            && (kinds[end] == kinds[k] && kinds[k] != Label::ListItem
                || kinds[k] == Label::ListItem && kinds[end] == Label::Text)
        {
            end += 1;
        }
        let members: Vec<u32> = rows[k..end].iter().flatten().copied().collect();
        let text = rows[k..end].iter().map(|r| text_of(words, r)).collect::<Vec<_>>().join("\n");
        take(taken, &members);
        let confidence = if kinds[k] == Label::Text { 0.75 } else { 0.65 };
        regions.push(Region::new(kinds[k], span(&members), members, text, confidence, RegionSource::Geometric));
        k = end;
    }
}

/// A label on its own row above a short value ("Bill to" / name / address; "Due date:" /
/// "13 April 2024"): the label ends with ':' or is bold while the value is not, and the value
/// is one to four short rows. Returns (key words, value words).
fn label_above_value(words: &[Word], rows: &[Vec<u32>]) -> Option<(Vec<u32>, Vec<u32>)> {
    let (key, value) = rows.split_first()?;
    let bold = |r: &[u32]| r.iter().all(|&w| words[w as usize].bold);
    let last = &words[*key.last()? as usize].text;
    // A bold label is set at the size of its value; a bigger bold line is a letterhead or a heading.
    let size = |ws: &[u32]| median_size(&ws.iter().map(|&w| words[w as usize].clone()).collect::<Vec<_>>());
    let value_words: Vec<u32> = value.iter().flatten().copied().collect();
    let same_size = !value_words.is_empty() && size(key) <= 1.15 * size(&value_words);
    let labelled = last.ends_with(':') || bold(key) && same_size && !value.iter().any(|r| bold(r));
    let short = !value.is_empty() && value.len() <= 4 && value.iter().all(|r| r.len() <= 8);
    let letters = key.iter().any(|&w| words[w as usize].text.chars().any(char::is_alphabetic));
    (key.len() <= 4 && labelled && short && letters && !is_section_number(&words[key[0] as usize].text))
        .then(|| (key.clone(), value_words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_labels_on_a_row_are_no_pair_and_their_words_stay_in_a_region() {
        let w = |text: &str, x: f32, y: f32| Word {
            text: text.into(),
            bbox: BBox::new(x, y, x + 60.0, y + 10.0),
            size: 10.0,
            bold: false,
        };
        let rows = [
            vec![
                w("The", 50.0, 100.0),
                w("parties", 120.0, 100.0),
                w("agree", 190.0, 100.0),
                w("today.", 260.0, 100.0),
            ],
            vec![w("Seller:", 50.0, 114.0), w("Buyer:", 120.0, 114.0)],
            vec![w("Note:", 50.0, 128.0)],
            vec![w("Terms:", 50.0, 142.0)],
        ];
        let (mut words, mut lines) = (Vec::new(), Vec::new());
        for row in rows {
            let ids: Vec<u32> = (words.len() as u32..(words.len() + row.len()) as u32).collect();
            let bbox = row.iter().skip(1).fold(row[0].bbox, |a, w| a.union(&w.bbox));
            words.extend(row);
            lines.push(crate::model::Line { words: ids, bbox, block: 0 });
        }
        let page = Page::of_words(crate::model::PageSource::TextLayer, words, lines);
        let regions = analyze_page(&page, &DocContext::default());
        let mut held: Vec<u32> = regions.iter().flat_map(|r| r.words.clone()).collect();
        held.sort();
        assert_eq!(held, (0..page.words.len() as u32).collect::<Vec<_>>(), "{regions:?}");
    }

    #[test]
    fn a_label_above_a_short_value_is_a_pair() {
        let w = |text: &str, bold: bool, size: f32| Word {
            text: text.into(),
            bbox: BBox::new(0.0, 0.0, 10.0, size),
            size,
            bold,
        };
        let words = vec![
            w("Bill", true, 10.0),
            w("to", true, 10.0),
            w("ACME", false, 10.0),
            w("GmbH", false, 10.0),
            w("Berlin", false, 10.0),
        ];
        let rows = vec![vec![0, 1], vec![2, 3], vec![4]];
        assert_eq!(label_above_value(&words, &rows), Some((vec![0, 1], vec![2, 3, 4])));
        // A bigger bold line above an address is a letterhead, not a label.
        let head = vec![w("Northwind", true, 20.0), w("Street", false, 10.0)];
        assert_eq!(label_above_value(&head, &[vec![0], vec![1]]), None);
        // A heading above a paragraph: the value rows are too long.
        let mut para = vec![w("Results", true, 10.0)];
        para.extend((0..12).map(|_| w("word", false, 10.0)));
        assert_eq!(label_above_value(&para, &[vec![0], (1..13).collect()]), None);
    }
}
