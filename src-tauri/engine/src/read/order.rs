//! Plain reading order from word boxes: words -> line segments (rows from the reader's own lines
//! where it gives them, a slanted scan levelled first) -> recursive XY-cut -> lines and blocks in
//! reading order, and the page text. Column cuts are preferred over row cuts (so two-
//! and three-column pages read column by column), but only where the two sides look like
//! running text or do not share rows, so forms and tables still read across, row by row.
//! The full layout analysis (regions, labels, tables) is a later stage built on top of this.

use crate::model::{BBox, Line, TextDirection, Word};

/// A run of words on one row with no wide gap inside.
#[derive(Debug, Clone)]
struct Segment {
    bbox: BBox,
    words: Vec<u32>,
    size: f32,
}

impl Segment {
    /// `words` (together in `bbox`, of type `size`) go on with the segment.
    fn grow(&mut self, bbox: &BBox, words: impl IntoIterator<Item = u32>, size: f32) {
        self.bbox = self.bbox.union(bbox);
        self.words.extend(words);
        self.size = self.size.max(size);
    }
}

/// Lines in reading order (with their block numbers) and the page text, rows found from the
/// word boxes alone.
pub fn arrange(words: &[Word]) -> (Vec<Line>, String) {
    arrange_rows(words, &[])
}

/// Like [`arrange`], with the reader's own lines (`reader_lines`, see [`crate::model::Reading`])
/// as the rows where it gives them. A slanted or curled scan is levelled first, each reader's
/// line by its own slope about the middle of the page, so that its rows, blocks and columns are
/// found as on a straight one.
fn arrange_rows(words: &[Word], reader_lines: &[Vec<u32>]) -> (Vec<Line>, String) {
    let reader_lines = if partitions(reader_lines, words.len()) { reader_lines } else { &[] };
    let Some(slope) = slants(words, reader_lines) else {
        return arrange_level(words, reader_lines);
    };
    let pivot = median(words.iter().map(|w| w.bbox.center().0).collect());
    let mut levelled = words.to_vec();
    for (line, s) in reader_lines.iter().zip(slope) {
        for &i in line {
            let b = &mut levelled[i as usize].bbox;
            let (cx, cy) = b.center();
            // A slanted word's box is taller than its letters by the drop over its width.
            let h = (b.height() - s.abs() * b.width()).max(0.5 * b.height()) / 2.0;
            let y = cy - s * (cx - pivot);
            *b = BBox::new(b.x0, y - h, b.x1, y + h);
        }
    }
    let (mut lines, text) = arrange_level(&levelled, reader_lines);
    restore_boxes(&mut lines, words);
    (lines, text)
}

/// Pages slanted less than this (drop per unit of width, about 0.3°) are read as they are.
const MIN_SLANT: f32 = 0.005;

/// How far each reader's line drops per unit of width (a slope through its words' centres; a
/// line of one word takes the nearest line's), where some line drops [`MIN_SLANT`] or more.
fn slants(words: &[Word], reader_lines: &[Vec<u32>]) -> Option<Vec<f32>> {
    let fit = |line: &Vec<u32>| -> (f32, Option<f32>) {
        let c: Vec<(f32, f32)> = line.iter().filter_map(|&i| words.get(i as usize)).map(|w| w.bbox.center()).collect();
        let n = c.len().max(1) as f32;
        let (mx, my) = (c.iter().map(|p| p.0).sum::<f32>() / n, c.iter().map(|p| p.1).sum::<f32>() / n);
        let sxx: f32 = c.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f32 = c.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        (my, (c.len() >= 2 && sxx > 0.0).then(|| (sxy / sxx).clamp(-MAX_SLANT, MAX_SLANT)))
    };
    let fitted: Vec<(f32, Option<f32>)> = reader_lines.iter().map(fit).collect();
    if !fitted.iter().any(|(_, s)| s.is_some_and(|s| s.abs() >= MIN_SLANT)) {
        return None;
    }
    let nearest = |y: f32| {
        fitted.iter().filter_map(|&(y2, s)| Some(((y2 - y).abs(), s?))).min_by(|a, b| a.0.total_cmp(&b.0)).map(|p| p.1)
    };
    Some(fitted.iter().map(|&(y, s)| s.or_else(|| nearest(y)).unwrap_or(0.0)).collect())
}

/// Steeper than this (about 11°) a line's own words say little about the page: a slope is
/// clamped to it.
const MAX_SLANT: f32 = 0.2;

/// Lines keep boxes made of their words' own boxes (after ordering them on moved ones).
fn restore_boxes(lines: &mut [Line], words: &[Word]) {
    for line in lines {
        let first = words[line.words[0] as usize].bbox;
        line.bbox = line.words.iter().fold(first, |acc, &i| acc.union(&words[i as usize].bbox));
    }
}

/// Lines and text from rows, segments and the XY cut over the boxes as they are.
fn arrange_level(words: &[Word], reader_lines: &[Vec<u32>]) -> (Vec<Line>, String) {
    let segments = segments(words, reader_lines);
    let mut order = Vec::with_capacity(segments.len());
    xy_cut(&segments, (0..segments.len()).collect(), &mut order);
    let ordered: Vec<&Segment> = order.iter().map(|&i| &segments[i]).collect();
    assemble(words, &ordered)
}

/// Like [`arrange`], for a page whose text runs in `dir` (rotated, upside down or mirrored
/// text): boxes are turned so the text runs upright, ordered there, and lines keep their boxes
/// in page coordinates.
pub fn arrange_in(words: &[Word], reader_lines: &[Vec<u32>], dir: TextDirection) -> (Vec<Line>, String) {
    if dir == TextDirection::default() {
        return arrange_rows(words, reader_lines);
    }
    let map = |x: f32, y: f32| (x * dir.along.0 + y * dir.along.1, -(x * dir.up.0 + y * dir.up.1));
    let turned: Vec<Word> = words
        .iter()
        .map(|w| {
            let (ax, ay) = map(w.bbox.x0, w.bbox.y0);
            let (bx, by) = map(w.bbox.x1, w.bbox.y1);
            Word { bbox: BBox::new(ax, ay, bx, by), ..w.clone() }
        })
        .collect();
    let (mut lines, text) = arrange_rows(&turned, reader_lines);
    restore_boxes(&mut lines, words);
    (lines, text)
}

fn word_size(w: &Word) -> f32 {
    if w.size > 0.0 { w.size } else { w.bbox.height() * 0.8 }.max(1.0)
}

fn median(mut v: Vec<f32>) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

fn same_row(a: &BBox, b: &BBox) -> bool {
    a.v_overlap(b) >= 0.5 * a.height().min(b.height()).max(0.1)
}

/// `reader_lines` hold each of `n` words exactly once.
fn partitions(reader_lines: &[Vec<u32>], n: usize) -> bool {
    let mut seen = vec![false; n];
    for &i in reader_lines.iter().flatten() {
        if i as usize >= n || std::mem::replace(&mut seen[i as usize], true) {
            return false;
        }
    }
    seen.into_iter().all(|s| s)
}

/// Rows of words: the reader's lines where it gives them, else words grouped by vertical overlap.
fn rows(words: &[Word], reader_lines: &[Vec<u32>]) -> Vec<Vec<usize>> {
    if !reader_lines.is_empty() {
        return reader_lines.iter().map(|l| l.iter().map(|&i| i as usize).collect()).collect();
    }
    let mut idx: Vec<usize> = (0..words.len()).collect();
    idx.sort_by(|&a, &b| {
        words[a].bbox.y0.total_cmp(&words[b].bbox.y0).then(words[a].bbox.x0.total_cmp(&words[b].bbox.x0))
    });
    let mut rows: Vec<(BBox, Vec<usize>)> = Vec::new();
    for i in idx {
        let b = words[i].bbox;
        // Only recent rows can overlap a word that starts further down the page.
        match rows.iter_mut().rev().take(8).find(|(rb, _)| same_row(rb, &b)) {
            Some((rb, members)) => {
                *rb = rb.union(&b);
                members.push(i);
            }
            None => rows.push((b, vec![i])),
        }
    }
    rows.into_iter().map(|(_, members)| members).collect()
}

/// Rows split at gaps wider than a font size (column gutters, table cell gaps) into segments.
/// Where the rows are the reader's lines, pieces of one row that the reader saw apart but
/// that follow each other closely join again, as they would have from the boxes.
fn segments(words: &[Word], reader_lines: &[Vec<u32>]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for mut members in rows(words, reader_lines) {
        members.sort_by(|&a, &b| words[a].bbox.x0.total_cmp(&words[b].bbox.x0));
        let mut seg: Option<Segment> = None;
        for i in members {
            let w = &words[i];
            if let Some(s) = seg.as_mut() {
                if w.bbox.x0 - s.bbox.x1 <= s.size.max(word_size(w)) {
                    s.grow(&w.bbox, [i as u32], word_size(w));
                    continue;
                }
                out.push(seg.take().unwrap());
            }
            seg = Some(Segment { bbox: w.bbox, words: vec![i as u32], size: word_size(w) });
        }
        out.extend(seg);
    }
    if reader_lines.is_empty() {
        return out;
    }
    out.sort_by(|a, b| a.bbox.x0.total_cmp(&b.bbox.x0));
    let mut joined: Vec<Segment> = Vec::with_capacity(out.len());
    for seg in out {
        match joined.iter_mut().find(|s| same_row(&s.bbox, &seg.bbox) && follows(s, &seg.bbox, seg.size)) {
            Some(s) => s.grow(&seg.bbox, seg.words, seg.size),
            None => joined.push(seg),
        }
    }
    joined
}

/// `b` goes on with the segment `s` on its row: it starts after it, no more than a font size on
/// (an earlier line of a slanted page starts before its neighbour ends).
fn follows(s: &Segment, b: &BBox, size: f32) -> bool {
    let gap = b.x0 - s.bbox.x1;
    gap >= -0.5 * size && gap <= s.size.max(size)
}

/// Empty intervals of the projection of `spans` onto one axis, widest first.
fn gaps(mut spans: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut reach = f32::NEG_INFINITY;
    for (a, b) in spans {
        if reach.is_finite() && a > reach {
            out.push((reach, a));
        }
        reach = reach.max(b);
    }
    out.sort_by(|x, y| (y.1 - y.0).total_cmp(&(x.1 - x.0)));
    out
}

fn xy_cut(segs: &[Segment], items: Vec<usize>, order: &mut Vec<usize>) {
    if items.len() <= 1 {
        order.extend(items);
        return;
    }
    let size = median(items.iter().map(|&i| segs[i].size).collect());
    let min_gutter = (0.8 * size).max(4.0);
    for (a, b) in gaps(items.iter().map(|&i| (segs[i].bbox.x0, segs[i].bbox.x1)).collect()) {
        if b - a < min_gutter {
            break;
        }
        let cut = (a + b) / 2.0;
        let (left, right): (Vec<usize>, Vec<usize>) = items.iter().partition(|&&i| segs[i].bbox.x1 <= cut);
        if reads_as_columns(segs, &left, &right, min_gutter) {
            xy_cut(segs, left, order);
            xy_cut(segs, right, order);
            return;
        }
    }
    if let Some(&(a, b)) = gaps(items.iter().map(|&i| (segs[i].bbox.y0, segs[i].bbox.y1)).collect()).first() {
        let cut = (a + b) / 2.0;
        let (top, bottom): (Vec<usize>, Vec<usize>) = items.iter().partition(|&&i| segs[i].bbox.y1 <= cut);
        xy_cut(segs, top, order);
        xy_cut(segs, bottom, order);
        return;
    }
    // Overlapping rows with no clean cut: group into rows top to bottom, each left to right.
    // (A comparator mixing "same row" and "above" is not a total order, so group first.)
    let mut rest = items;
    rest.sort_by(|&a, &b| segs[a].bbox.y0.total_cmp(&segs[b].bbox.y0));
    let mut rows: Vec<(BBox, Vec<usize>)> = Vec::new();
    for i in rest {
        match rows.last_mut() {
            Some((rb, members)) if same_row(rb, &segs[i].bbox) => {
                *rb = rb.union(&segs[i].bbox);
                members.push(i);
            }
            _ => rows.push((segs[i].bbox, vec![i])),
        }
    }
    for (_, mut members) in rows {
        members.sort_by(|&a, &b| segs[a].bbox.x0.total_cmp(&segs[b].bbox.x0));
        order.extend(members);
    }
}

/// Columns of running text are cut apart; the cells of a table or the labels and values of a
/// form (short pieces sharing rows across the gap) are not.
fn reads_as_columns(segs: &[Segment], left: &[usize], right: &[usize], gutter: f32) -> bool {
    // A side is running text when each of its own columns is (a side may hold several: the
    // first cut of a three-column page leaves two on one side).
    let text_like =
        |side: &[usize]| side.len() >= 2 && column_groups(segs, side, gutter).iter().all(|g| runs_as_text(segs, g));
    if text_like(left) && text_like(right) {
        return true;
    }
    let (small, large) = if left.len() <= right.len() { (left, right) } else { (right, left) };
    let shared = small.iter().filter(|&&i| large.iter().any(|&j| same_row(&segs[i].bbox, &segs[j].bbox))).count();
    (shared as f32) < 0.5 * small.len() as f32
}

/// Most of the words of `group` sit in long segments that fill the group's width (weighed by
/// words, so the fragments of a displayed equation between paragraphs do not hide that the
/// group is running text).
fn runs_as_text(segs: &[Segment], group: &[usize]) -> bool {
    if group.len() < 2 {
        return false;
    }
    let x0 = group.iter().map(|&i| segs[i].bbox.x0).fold(f32::INFINITY, f32::min);
    let x1 = group.iter().map(|&i| segs[i].bbox.x1).fold(f32::NEG_INFINITY, f32::max);
    let full: usize = group
        .iter()
        .filter(|&&i| segs[i].bbox.width() >= 0.7 * (x1 - x0) && segs[i].words.len() >= 3)
        .map(|&i| segs[i].words.len())
        .sum();
    let all: usize = group.iter().map(|&i| segs[i].words.len()).sum();
    full as f32 >= 0.6 * all as f32
}

/// Segments grouped into the columns that vertical gaps of at least `gutter` separate.
fn column_groups(segs: &[Segment], items: &[usize], gutter: f32) -> Vec<Vec<usize>> {
    let mut sorted = items.to_vec();
    sorted.sort_by(|&a, &b| segs[a].bbox.x0.total_cmp(&segs[b].bbox.x0));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut reach = f32::NEG_INFINITY;
    for i in sorted {
        if groups.is_empty() || segs[i].bbox.x0 - reach >= gutter {
            groups.push(Vec::new());
        }
        reach = reach.max(segs[i].bbox.x1);
        groups.last_mut().unwrap().push(i);
    }
    groups
}

/// Lines from ordered segments; a new block starts where the next line does not continue the
/// previous one (a wide vertical gap, no horizontal overlap, or a jump back up the page).
fn assemble(words: &[Word], ordered: &[&Segment]) -> (Vec<Line>, String) {
    let mut lines: Vec<Line> = Vec::with_capacity(ordered.len());
    let mut text = String::new();
    let mut block = 0u32;
    // The union of the segments on the current row: a table or form row continues into the
    // next row below its first cell, not below its last one.
    let mut row_box: Option<BBox> = None;
    for seg in ordered {
        if let Some(prev) = row_box {
            if same_row(&prev, &seg.bbox) && seg.bbox.x0 >= prev.x1 - 1.0 {
                text.push('\t');
                row_box = Some(prev.union(&seg.bbox));
            } else {
                let gap = seg.bbox.y0 - prev.y1;
                let overlaps = seg.bbox.x0 < prev.x1 && prev.x0 < seg.bbox.x1;
                let continues =
                    overlaps && gap >= -0.5 * prev.height() && gap <= 0.7 * prev.height().max(seg.bbox.height());
                if continues {
                    text.push('\n');
                } else {
                    block += 1;
                    text.push_str("\n\n");
                }
                row_box = Some(seg.bbox);
            }
        } else {
            row_box = Some(seg.bbox);
        }
        for (k, &w) in seg.words.iter().enumerate() {
            if k > 0 {
                text.push(' ');
            }
            text.push_str(&words[w as usize].text);
        }
        lines.push(Line { bbox: seg.bbox, words: seg.words.clone(), block });
    }
    (lines, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words of `n` letters each, 5 pt per letter, 10 pt font, on a row at `y`.
    fn row(words: &mut Vec<Word>, x: f32, y: f32, text: &str) {
        let mut x = x;
        for t in text.split(' ') {
            let w = 5.0 * t.len() as f32;
            words.push(Word { text: t.into(), bbox: BBox::new(x, y, x + w, y + 12.0), size: 10.0, bold: false });
            x += w + 3.0;
        }
    }

    fn text_of(words: &[Word]) -> String {
        arrange(words).1
    }

    #[test]
    fn two_columns_read_column_by_column() {
        let mut w = Vec::new();
        row(&mut w, 50.0, 40.0, "A Title Across The Whole Page Width Here");
        for i in 0..4 {
            let y = 80.0 + 14.0 * i as f32;
            row(&mut w, 50.0, y, &format!("left{i} aaa bbb ccc ddd eee fff"));
            row(&mut w, 300.0, y, &format!("right{i} aaa bbb ccc ddd eee fff"));
        }
        let t = text_of(&w);
        let l3 = t.find("left3").unwrap();
        let r0 = t.find("right0").unwrap();
        assert!(t.starts_with("A Title"), "{t}");
        assert!(l3 < r0, "left column must be read before the right one:\n{t}");
    }

    #[test]
    fn three_columns_read_column_by_column() {
        let mut w = Vec::new();
        for i in 0..5 {
            let y = 80.0 + 14.0 * i as f32;
            for (c, x) in [40.0, 220.0, 400.0].into_iter().enumerate() {
                row(&mut w, x, y, &format!("c{c}r{i} aa bbb cc dd eee"));
            }
        }
        let t = text_of(&w);
        let (a, b, c) = (t.find("c0r4").unwrap(), t.find("c1r0").unwrap(), t.find("c2r0").unwrap());
        assert!(a < b && t.find("c1r4").unwrap() < c, "columns in turn:\n{t}");
    }

    #[test]
    fn form_rows_read_across() {
        let mut w = Vec::new();
        for (i, (label, value)) in
            [("Invoice:", "INV-1"), ("Date:", "2024-01-02"), ("Total:", "99.00")].iter().enumerate()
        {
            let y = 50.0 + 20.0 * i as f32;
            row(&mut w, 50.0, y, label);
            row(&mut w, 250.0, y, value);
        }
        assert_eq!(text_of(&w), "Invoice:\tINV-1\nDate:\t2024-01-02\nTotal:\t99.00");
    }

    #[test]
    fn paragraph_lines_form_one_block() {
        let mut w = Vec::new();
        row(&mut w, 50.0, 50.0, "first line of a paragraph");
        row(&mut w, 50.0, 63.0, "second line of it");
        row(&mut w, 50.0, 120.0, "a new paragraph");
        let (lines, text) = arrange(&w);
        assert_eq!(lines.iter().map(|l| l.block).collect::<Vec<_>>(), vec![0, 0, 1]);
        assert_eq!(text, "first line of a paragraph\nsecond line of it\n\na new paragraph");
    }

    #[test]
    fn upside_down_text_reads_from_the_bottom_right() {
        // Two lines rotated 180 degrees on a 600 x 800 page: the first line sits at the bottom.
        let mut w = Vec::new();
        row(&mut w, 50.0, 50.0, "first line");
        row(&mut w, 50.0, 64.0, "second line");
        let flipped: Vec<Word> = w
            .iter()
            .map(|x| Word {
                bbox: BBox::new(600.0 - x.bbox.x1, 800.0 - x.bbox.y1, 600.0 - x.bbox.x0, 800.0 - x.bbox.y0),
                ..x.clone()
            })
            .collect();
        let dir = TextDirection { along: (-1.0, 0.0), up: (0.0, 1.0) };
        let (lines, text) = arrange_in(&flipped, &[], dir);
        assert_eq!(text, "first line\nsecond line");
        assert!(lines[0].bbox.y0 > lines[1].bbox.y0, "boxes stay in page coordinates");
    }

    /// A slanted scan: each line drops 8 pt per word, each word's box 17 pt tall (10 pt letters
    /// and the drop over its width), so the boxes of a line's words overlap the next line's
    /// (lines 12 pt apart) and rows found from the boxes mix the two lines.
    fn slanted() -> (Vec<Word>, Vec<Vec<u32>>) {
        let mut words = Vec::new();
        let mut lines = Vec::new();
        for (i, text) in ["AIK HUAT HARDWARE", "ENTERPRISE SDN BHD", "NO. 17-G JALAN SETIA"].iter().enumerate() {
            let first = words.len() as u32;
            for (k, t) in text.split(' ').enumerate() {
                let (x, y) = (40.0 + 80.0 * k as f32, 100.0 + 12.0 * i as f32 + 8.0 * k as f32);
                words.push(Word { text: t.into(), bbox: BBox::new(x, y, x + 70.0, y + 17.0), size: 10.0, bold: false });
            }
            lines.push((first..words.len() as u32).collect());
        }
        (words, lines)
    }

    #[test]
    fn a_slanted_scan_reads_the_readers_lines() {
        let (words, reader_lines) = slanted();
        let texts = |lines: Vec<Line>| -> Vec<String> {
            lines
                .iter()
                .map(|l| l.words.iter().map(|&i| words[i as usize].text.as_str()).collect::<Vec<_>>().join(" "))
                .collect()
        };
        let want = ["AIK HUAT HARDWARE", "ENTERPRISE SDN BHD", "NO. 17-G JALAN SETIA"];
        assert_ne!(texts(arrange(&words).0), want);
        let (lines, text) = arrange_in(&words, &reader_lines, TextDirection::default());
        assert!(lines.iter().all(|l| l.block == 0), "one block, as on a straight page: {text}");
        assert_eq!(texts(lines), want);
    }

    #[test]
    fn pieces_the_reader_saw_apart_on_one_row_join_and_bad_lines_are_ignored() {
        let mut w = Vec::new();
        row(&mut w, 50.0, 50.0, "Total Sales");
        row(&mut w, 108.0, 50.0, "(Excluding GST)");
        row(&mut w, 300.0, 50.0, "25.00");
        let pieces = vec![vec![0, 1], vec![2, 3], vec![4]];
        assert_eq!(arrange_in(&w, &pieces, TextDirection::default()).1, "Total Sales (Excluding GST)\t25.00");
        // Lines that do not cover every word once are not the reader's: rows come from the boxes.
        for bad in [vec![vec![0, 1], vec![2, 3]], vec![vec![0, 1, 2], vec![2, 3, 4]], vec![vec![0, 1, 2, 3, 9]]] {
            assert_eq!(arrange_in(&w, &bad, TextDirection::default()), arrange(&w));
        }
    }

    #[test]
    fn overlapping_pieces_without_a_cut_are_ordered_without_panicking() {
        // Staggered boxes that overlap in both projections: no XY cut exists.
        let words: Vec<Word> = (0..40)
            .map(|i| {
                let (x, y) = ((i * 37 % 11) as f32 * 4.0, (i * 53 % 17) as f32 * 3.0);
                Word { text: format!("w{i}"), bbox: BBox::new(x, y, x + 30.0, y + 12.0), size: 10.0, bold: false }
            })
            .collect();
        let (lines, _) = arrange(&words);
        let mut seen: Vec<u32> = lines.iter().flat_map(|l| l.words.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..40).collect::<Vec<u32>>(), "every word is placed exactly once");
    }

    #[test]
    fn gaps_are_widest_first() {
        let g = gaps(vec![(0.0, 10.0), (12.0, 20.0), (40.0, 50.0)]);
        assert_eq!(g, vec![(20.0, 40.0), (10.0, 12.0)]);
    }

    #[test]
    fn empty_page_has_no_text() {
        assert_eq!(arrange(&[]), (vec![], String::new()));
    }
}
