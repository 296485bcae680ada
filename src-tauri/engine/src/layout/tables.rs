//! Tables: where they are (runs of rows with aligned cells, or areas framed by ruling lines) and
//! their grid (rows from text rows or horizontal rules, columns from gaps that every multi-cell
//! row leaves empty or from vertical rules; cells spanning several columns), and CSV export.

use crate::model::Cell;
use crate::model::{merge_touching, Graphics};
use crate::model::{BBox, Word};

/// A row of the page in reading order: the lines (segments) that share it.
#[derive(Debug, Clone)]
pub struct Row {
    pub lines: Vec<usize>,
    pub bbox: BBox,
}

/// Areas that ruling lines frame as a table: connected rules forming a grid (two or more
/// horizontal and vertical rules), or three or more horizontal rules of the same extent
/// (the open "booktabs" style).
pub fn ruled_areas(g: &Graphics) -> Vec<BBox> {
    let is_h = |r: &BBox| r.height() <= 2.0 && r.width() > r.height();
    let mut out = Vec::new();
    for (area, _) in merge_touching(g.rules.clone(), 2.0) {
        let inside: Vec<&BBox> = g.rules.iter().filter(|r| contains(&area.grow(1.0), r)).collect();
        let h = inside.iter().filter(|r| is_h(r)).count();
        let v = inside.len() - h;
        if h >= 2 && v >= 2 && area.width() >= 40.0 && area.height() >= 15.0 {
            out.push(area);
        }
    }
    // Open tables: horizontal rules sharing their left and right ends.
    let mut hs: Vec<&BBox> = g.rules.iter().filter(|r| is_h(r) && r.width() >= 60.0).collect();
    hs.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    let mut used = vec![false; hs.len()];
    for i in 0..hs.len() {
        if used[i] {
            continue;
        }
        let same: Vec<usize> = (i..hs.len())
            .filter(|&j| (hs[j].x0 - hs[i].x0).abs() <= 4.0 && (hs[j].x1 - hs[i].x1).abs() <= 4.0)
            .collect();
        if same.len() >= 3 {
            let area = same.iter().fold(*hs[i], |acc, &j| acc.union(hs[j]));
            same.iter().for_each(|&j| used[j] = true);
            if !out.iter().any(|o: &BBox| o.overlap_area(&area) > 0.5 * area.area()) {
                out.push(area);
            }
        }
    }
    out
}

fn contains(outer: &BBox, inner: &BBox) -> bool {
    inner.x0 >= outer.x0 && inner.x1 <= outer.x1 && inner.y0 >= outer.y0 && inner.y1 <= outer.y1
}

/// Runs of consecutive rows that read as a table: every row split into two or more cells, at
/// least three rows (or two rows of three or more cells), rows close together, and the cells
/// of different rows starting at shared column positions. Returns ranges of row indices.
/// `words_in(line)` counts a line's words: cells are short, so a row of long pieces (a
/// justified line of prose with wide spaces) is not a table row.
pub fn aligned_runs(
    rows: &[Row],
    lines_x0: &dyn Fn(usize) -> f32,
    words_in: &dyn Fn(usize) -> usize,
    size: f32,
) -> Vec<std::ops::Range<usize>> {
    let cells =
        |r: &Row| r.lines.len() >= 2 && r.lines.iter().map(|&l| words_in(l)).sum::<usize>() <= 4 * r.lines.len();
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        if !cells(&rows[start]) {
            start += 1;
            continue;
        }
        let mut end = start + 1;
        while end < rows.len()
            && cells(&rows[end])
            && rows[end].bbox.y0 - rows[end - 1].bbox.y1 <= 2.5 * size
            && rows[end].bbox.y0 > rows[end - 1].bbox.y0
        {
            end += 1;
        }
        let n = end - start;
        let cells = rows[start..end].iter().map(|r| r.lines.len()).min().unwrap_or(0);
        if (n >= 3 || (n == 2 && cells >= 3)) && shares_columns(&rows[start..end], lines_x0, size) {
            out.push(start..end);
        }
        start = end;
    }
    out
}

/// Do the rows' cells (beyond the first) start at common x positions?
fn shares_columns(rows: &[Row], x0: &dyn Fn(usize) -> f32, size: f32) -> bool {
    let starts: Vec<Vec<f32>> = rows.iter().map(|r| r.lines.iter().skip(1).map(|&l| x0(l)).collect()).collect();
    let aligned = starts
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            s.iter().any(|x| starts.iter().enumerate().any(|(j, t)| j != *i && t.iter().any(|y| (x - y).abs() <= size)))
        })
        .count();
    aligned * 10 >= rows.len() * 7
}

/// The grid of a table from the words inside it and the rules around them.
pub fn grid(words: &[Word], members: &[u32], rules: &[BBox], area: &BBox) -> Vec<Cell> {
    if members.is_empty() {
        return Vec::new();
    }
    let w = |i: u32| &words[i as usize];
    let size = {
        let mut s: Vec<f32> = members.iter().map(|&i| w(i).bbox.height()).collect();
        s.sort_by(f32::total_cmp);
        s[s.len() / 2].max(1.0)
    };
    // Rows: text rows, merged where a horizontal rule does not separate them and the second
    // one only continues cells of the first (a wrapped cell).
    let mut sorted: Vec<u32> = members.to_vec();
    sorted.sort_by(|&a, &b| w(a).bbox.y0.total_cmp(&w(b).bbox.y0));
    let mut text_rows: Vec<(BBox, Vec<u32>)> = Vec::new();
    for i in sorted {
        let b = w(i).bbox;
        match text_rows.last_mut() {
            Some((rb, m)) if b.v_overlap(rb) >= 0.4 * b.height().min(rb.height()).max(0.1) => {
                *rb = rb.union(&b);
                m.push(i);
            }
            _ => text_rows.push((b, vec![i])),
        }
    }
    let h_rules: Vec<f32> = rules
        .iter()
        .filter(|r| r.height() <= 2.0 && r.width() >= 0.5 * area.width())
        .map(|r| (r.y0 + r.y1) / 2.0)
        .collect();
    // Rules between most rows: rows are what the rules separate (cells may wrap). Rules only
    // under a header or above a total say nothing about the rows between them.
    let internal = h_rules.iter().filter(|&&y| y > area.y0 + 2.0 && y < area.y1 - 2.0).count();
    let ruled_rows = internal >= 1 && internal * 2 >= text_rows.len().saturating_sub(1);
    if ruled_rows {
        let mut merged: Vec<(BBox, Vec<u32>)> = Vec::new();
        for (b, m) in text_rows {
            match merged.last_mut() {
                Some((pb, pm)) if !h_rules.iter().any(|&y| y > pb.y1 - 1.0 && y < b.y0 + 1.0) => {
                    *pb = pb.union(&b);
                    pm.extend(m);
                }
                _ => merged.push((b, m)),
            }
        }
        text_rows = merged;
    }
    // Columns: gaps in the x-projection of the words of rows with several pieces, plus
    // vertical rules.
    let multi: Vec<&(BBox, Vec<u32>)> = text_rows.iter().filter(|(_, m)| pieces(words, m, size) >= 2).collect();
    let basis: Vec<&(BBox, Vec<u32>)> = if multi.is_empty() { text_rows.iter().collect() } else { multi };
    let mut seps = empty_columns(
        basis.iter().flat_map(|(_, m)| m.iter().map(|&i| (w(i).bbox.x0, w(i).bbox.x1))).collect(),
        0.6 * size,
    );
    for r in rules.iter().filter(|r| r.width() <= 2.0 && r.height() >= 0.5 * size) {
        let x = (r.x0 + r.x1) / 2.0;
        if x > area.x0 + 2.0 && x < area.x1 - 2.0 && !seps.iter().any(|s| (s - x).abs() < size) {
            seps.push(x);
        }
    }
    seps.sort_by(f32::total_cmp);
    let col_of = |x: f32| seps.iter().filter(|&&s| s < x).count() as u32;
    let mut cells = Vec::new();
    for (r, (_, m)) in text_rows.iter().enumerate() {
        let mut m = m.clone();
        m.sort_by(|&a, &b| w(a).bbox.x0.total_cmp(&w(b).bbox.x0));
        // Words of one cell: same column start and no cell-sized gap between them.
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for i in m {
            let join = groups.last().is_some_and(|g| {
                let last = w(*g.last().unwrap());
                col_of(w(i).bbox.x0) == col_of(last.bbox.x1.min(w(i).bbox.x0))
                    && w(i).bbox.x0 - last.bbox.x1 < 0.6 * size
            });
            if join {
                groups.last_mut().unwrap().push(i);
            } else {
                groups.push(vec![i]);
            }
        }
        for g in groups {
            let b = g.iter().skip(1).fold(w(g[0]).bbox, |acc, &i| acc.union(&w(i).bbox));
            let (c0, c1) = (col_of(b.x0), col_of(b.x1));
            let mut ordered = g.clone();
            ordered.sort_by(|&a, &c| w(a).bbox.y0.total_cmp(&w(c).bbox.y0).then(w(a).bbox.x0.total_cmp(&w(c).bbox.x0)));
            let text = ordered.iter().map(|&i| w(i).text.as_str()).collect::<Vec<_>>().join(" ");
            cells.push(Cell { row: r as u32, col: c0, row_span: 1, col_span: c1 - c0 + 1, bbox: b, text });
        }
    }
    // Two pieces that landed in one column (a gap narrower than the threshold) share it.
    cells.dedup_by(|b, a| {
        if a.row == b.row && a.col == b.col {
            a.text = format!("{} {}", a.text, b.text);
            a.bbox = a.bbox.union(&b.bbox);
            a.col_span = a.col_span.max(b.col + b.col_span - a.col);
            true
        } else {
            false
        }
    });
    cells
}

/// Pieces of a row separated by gaps of at least 0.6 of the text size.
fn pieces(words: &[Word], members: &[u32], size: f32) -> usize {
    empty_columns(members.iter().map(|&i| (words[i as usize].bbox.x0, words[i as usize].bbox.x1)).collect(), 0.6 * size)
        .len()
        + 1
}

/// The middles of the gaps at least `min` wide between the x-extents `spans` cover.
fn empty_columns(mut spans: Vec<(f32, f32)>, min: f32) -> Vec<f32> {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut reach = f32::NEG_INFINITY;
    for (a, b) in spans {
        if reach.is_finite() && a - reach >= min {
            out.push((a + reach) / 2.0);
        }
        reach = reach.max(b);
    }
    out
}

/// Do the cells make a grid: two rows or more, and two columns or more?
pub fn is_grid(cells: &[Cell]) -> bool {
    let rows = cells.iter().map(|c| c.row + 1).max().unwrap_or(0);
    let cols = cells.iter().map(|c| c.col + c.col_span).max().unwrap_or(0);
    rows >= 2 && cols >= 2
}

/// A table's text: its cells row by row, tab between cells, a line a row.
pub fn cells_text(cells: &[Cell]) -> String {
    cells.iter().fold(String::new(), |mut s, c| {
        if !s.is_empty() {
            s.push(if c.col == 0 { '\n' } else { '\t' });
        }
        s.push_str(&c.text);
        s
    })
}

/// A table's cells as CSV (RFC 4180; spanned cells repeat nothing, their other slots stay
/// empty). Cells that begin with a formula character are quoted with a leading apostrophe so
/// a spreadsheet shows them as text.
pub fn to_csv(cells: &[Cell]) -> String {
    let rows = cells.iter().map(|c| c.row + c.row_span).max().unwrap_or(0) as usize;
    let cols = cells.iter().map(|c| c.col + c.col_span).max().unwrap_or(0) as usize;
    let mut grid = vec![vec![String::new(); cols]; rows];
    for c in cells {
        grid[c.row as usize][c.col as usize] = c.text.clone();
    }
    let mut out = String::new();
    for row in grid {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x: f32, y: f32) -> Word {
        Word {
            text: text.into(),
            bbox: BBox::new(x, y, x + 6.0 * text.len() as f32, y + 10.0),
            size: 10.0,
            bold: false,
        }
    }

    #[test]
    fn unruled_grid_with_a_spanning_header() {
        let mut w = vec![word("Revenue by region", 60.0, 10.0)];
        for (r, (a, b, c)) in
            [("Region", "2023", "2024"), ("North", "10", "12"), ("South", "7", "9")].iter().enumerate()
        {
            let y = 30.0 + 15.0 * r as f32;
            w.extend([word(a, 10.0, y), word(b, 100.0, y), word(c, 160.0, y)]);
        }
        let members: Vec<u32> = (0..w.len() as u32).collect();
        let cells = grid(&w, &members, &[], &BBox::new(0.0, 0.0, 200.0, 80.0));
        let head = &cells[0];
        assert_eq!((head.row, head.col, head.col_span), (0, 0, 3), "{cells:?}");
        assert!(cells.iter().any(|c| c.row == 2 && c.col == 2 && c.text == "12"), "{cells:?}");
        assert_eq!(to_csv(&cells), "Revenue by region,,\r\nRegion,2023,2024\r\nNorth,10,12\r\nSouth,7,9\r\n");
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-12.5"), "-12.5");
    }

    #[test]
    fn booktabs_rules_frame_a_table() {
        let g = Graphics {
            rules: vec![
                BBox::new(50.0, 100.0, 300.0, 100.5),
                BBox::new(50.0, 120.0, 300.0, 120.5),
                BBox::new(50.0, 200.0, 300.0, 200.5),
            ],
            ..Default::default()
        };
        assert_eq!(ruled_areas(&g), vec![BBox::new(50.0, 100.0, 300.0, 200.5)]);
    }
}
