//! Reading a value where it stands in a table: the label that starts its row, the head of its
//! column (what is printed above it within the column's span, up through the table's header
//! rows, heads spanning several columns included), the reporting period that head names, and
//! the scale the table states its amounts in ("in millions", "€ thousand"). A table may also
//! be set the other way round: periods down its first column ("2023", "FY 2022"), items across
//! its head ("Revenue", "EBIT").
//!
//! Rows are the page's lines, cells their pieces (words a column's gap apart), so a table that
//! layout analysis framed and one it missed read alike; a table region the layout found bounds
//! how far above it the head is looked for.

use super::labels::{matches_at, PageText};
use super::Question;
use crate::model::{BBox, Label};
use crate::values::currency_code;
use crate::values::periods::{scale_word, year_of, ReportPeriod};

/// Where a value stands in a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlace {
    /// The row's label: words `label.1..label.2` of line `label.0`.
    pub label: (usize, usize, usize),
    /// The column's head, top line first (empty when the column has none).
    pub head: String,
    pub period: ReportPeriod,
    /// The head's words in normal form (for matching the question's).
    head_norm: Vec<String>,
    /// The period the row's label names, where the table sets periods down its rows (its
    /// head then names none).
    pub row_period: Option<ReportPeriod>,
    /// "thousands", "millions" or "billions" where the table says so.
    pub scale: Option<&'static str>,
    /// The currency the table's head or title names ("€ million").
    pub currency: Option<&'static str>,
}

/// Most lines a column's head takes.
const HEAD_LINES: usize = 4;
/// Lines above a table's head that may state its unit (title, "(in thousands, except ...)",
/// a sentence or two between them).
const TITLE_LINES: f32 = 6.0;

/// Words `start..end` of line `line`: a cell of a row, or a piece of a head.
#[derive(Debug, Clone, Copy)]
struct Piece {
    line: usize,
    start: usize,
    end: usize,
    bbox: BBox,
}

impl Piece {
    fn words<'a>(&self, pt: &'a PageText) -> &'a [String] {
        &pt.lines[self.line].printed[self.start..self.end]
    }
}

/// A page cut into pieces once, for all the values asked about on it: as rows (cells of
/// neighbouring columns set close cut apart after each figure) and as heads (cut after each
/// year).
pub struct Pieces {
    cells: Vec<Piece>,
    heads: Vec<Piece>,
}

impl Pieces {
    pub fn new(pt: &PageText) -> Pieces {
        Pieces { cells: pieces_of(pt, by_figure), heads: pieces_of(pt, by_year) }
    }
}

/// Each line cut at column gaps, then by `cut`.
fn pieces_of(pt: &PageText, cut: fn(&[String], usize, usize) -> Vec<(usize, usize)>) -> Vec<Piece> {
    let mut out = Vec::new();
    for (li, l) in pt.lines.iter().enumerate() {
        for (s, e) in pt.pieces(li).into_iter().flat_map(|(s, e)| cut(&l.printed, s, e)) {
            out.push(Piece { line: li, start: s, end: e, bbox: pt.span_box(li, s, e) });
        }
    }
    out
}

/// The table place of the value in words `start..end` of line `line`, boxed `vbox`: `None`
/// where the value does not start a cell of a row that a label starts. A row is every line
/// beside the value's (a reader may give each cell a line of its own).
pub fn place(pt: &PageText, pieces: &Pieces, line: usize, start: usize, end: usize, vbox: &BBox) -> Option<TablePlace> {
    let band = pt.lines[line].bbox;
    let beside = |c: &&Piece| {
        let b = pt.lines[c.line].bbox;
        b.v_overlap(&band) >= 0.5 * b.height().min(band.height())
    };
    let mut row: Vec<Piece> = pieces.cells.iter().filter(beside).copied().collect();
    row.sort_by(|a, b| a.bbox.x0.total_cmp(&b.bbox.x0));
    let k = row.iter().position(|c| c.line == line && (c.start..c.end).contains(&start))?;
    let (label, cell) = (row[0], row[k]);
    // A label cell first (words: "Tier 1 capital" too), then the value at the start of its cell (after a
    // currency sign at most).
    let sign = |c: &Piece| c.words(pt).iter().all(|w| currency_code(w).is_some());
    let alphabetic = |c: &Piece| c.words(pt).iter().any(|w| w.chars().any(char::is_alphabetic));
    let label_period = ReportPeriod::parse(&label.words(pt).join(" "), pt.locale);
    if k == 0 || !(alphabetic(&label) || label_period.year.is_some()) {
        return None;
    }
    if pt.lines[line].printed[cell.start..start].iter().any(|w| currency_code(w).is_none()) {
        return None;
    }
    // The column: halfway to the cells beside it (a lone currency sign is no cell).
    let before = row[..k].iter().rev().find(|c| !sign(c)).map_or(label.bbox.x1, |c| c.bbox.x1);
    let left = (before + vbox.x0) / 2.0;
    let after = row.iter().find(|c| c.bbox.x0 >= vbox.x1 && !(c.line == line && c.start < end) && !sign(c));
    let right = after.map_or(vbox.x1 + (vbox.x0 - left), |c| (vbox.x1 + c.bbox.x0) / 2.0);
    let head = head(pt, pieces, vbox, left, right);
    let text = head.iter().rev().map(|c| c.words(pt).join(" ")).collect::<Vec<_>>().join(" ");
    let head_norm = head.iter().rev().flat_map(|c| pt.lines[c.line].norm[c.start..c.end].iter().cloned()).collect();
    let (scale, currency) = unit(pt, &label, head.last().map(|top| top.bbox.y0), vbox.y0);
    let period = ReportPeriod::parse(&text, pt.locale);
    // Periods down the rows: the label names one, the head none, and the column goes on with
    // another period's figure just above or below (a chart's lone "2021 39,687" is no table).
    // (Looked for only then: most tables name their periods in the head.)
    let goes_on = || {
        pieces.cells.iter().any(|c| {
            c.line != line
                && (c.bbox.y0 - vbox.y0).abs() <= 3.0 * pt.line_height
                && c.bbox.x1 > left
                && c.bbox.x0 < right
                && c.words(pt).iter().any(|w| is_figure(w) && !is_year(w))
        })
    };
    let row_period = (period.is_empty() && label_period.year.is_some() && goes_on()).then_some(label_period);
    Some(TablePlace {
        label: (label.line, label.start, label.end),
        period,
        head: text,
        head_norm,
        row_period,
        scale,
        currency,
    })
}

/// The unit of a row's figures: from its label ("Revenue (€ million)"), else from the lines
/// from a few above the table's head (`top`) down to the row (`bottom`) that hold no figure
/// but years — titles, the head, a section's line ("Operating Highlights (€ in millions)"), never another
/// row's label — the nearest saying so; a scale after "except" ("in millions, except per share
/// amounts and shares in thousands") is an exception's.
fn unit(pt: &PageText, label: &Piece, top: Option<f32>, bottom: f32) -> (Option<&'static str>, Option<&'static str>) {
    let words = label.words(pt);
    let (mut scale, mut currency) =
        (words.iter().find_map(|w| scale_word(w)), words.iter().find_map(|w| currency_code(w)));
    let Some(top) = top else { return (scale, currency) };
    let from = top - TITLE_LINES * 1.5 * pt.line_height;
    let mut lines: Vec<usize> = (0..pt.lines.len())
        .filter(|&li| (from..bottom).contains(&pt.lines[li].bbox.y0))
        .filter(|&li| pt.lines[li].bbox.y0 <= top || !pt.lines[li].printed.iter().any(|w| is_figure(w) && !is_year(w)))
        .collect();
    lines.sort_by(|&a, &b| pt.lines[a].bbox.y0.total_cmp(&pt.lines[b].bbox.y0));
    // (An exception runs to the end of its brackets, which may close on the next line.)
    let (mut nearest, mut except, mut open) = (None, false, false);
    for &li in &lines {
        let mut here = None;
        for w in &pt.lines[li].printed {
            open = (open || w.contains('(')) && !w.contains(')');
            except |= matches!(w.to_lowercase().as_str(), "except" | "excluding");
            here = here.or(scale_word(w).filter(|_| !except));
            currency = currency.or_else(|| currency_code(w));
            except &= !w.contains(')');
        }
        except &= open;
        nearest = here.or(nearest);
    }
    scale = scale.or(nearest);
    (scale, currency)
}

impl TablePlace {
    /// Does the table name the periods of its figures (in its head, or down its rows)?
    pub fn names_periods(&self) -> bool {
        self.period.year.is_some() || self.row_period.is_some()
    }

    /// How well the figure's period (its column's head's, or its row's) is the one asked about
    /// (see [`ReportPeriod::fit`]); a head that names none ("Note", "Change in %") heads no
    /// period's figures.
    pub fn period_fit(&self, asked: &ReportPeriod) -> f32 {
        match &self.row_period {
            Some(row) => row.fit(asked),
            None if asked.year.is_some() && self.period.is_empty() && !self.head.is_empty() => 0.25,
            None => self.period.fit(asked),
        }
    }

    /// How well the figure's place answers the question (0..1): what its row's label (or, with
    /// periods down the rows, its column's head) names, times how well its period fits.
    pub fn fit(&self, pt: &PageText, q: &Question) -> f32 {
        let (line, start, end) = self.label;
        let item = if self.row_period.is_some() { &self.head_norm[..] } else { &pt.lines[line].norm[start..end] };
        item_fit(item, q) * self.period_fit(&q.period)
    }
}

/// How well a row's label (or a column's head) names what the question asks for (0..1): the
/// longest label of the question (or run of its own words) in it, the more of the label it
/// covers the better ("Revenue" over "Operating revenue" over "Revenue from contracts with
/// customers"); a contrasting label as long ("Cost of revenue") rules it out.
fn item_fit(norm: &[String], q: &Question) -> f32 {
    let longest = |phrases: &[String]| {
        let phrases: Vec<Vec<&str>> = phrases.iter().map(|p| p.split_whitespace().collect()).collect();
        (0..norm.len())
            .flat_map(|at| phrases.iter().filter(move |p| matches_at(norm, at, p)).map(|p| p.len()))
            .max()
            .unwrap_or(0)
    };
    let subject = q.subject();
    let terms = (0..norm.len())
        .map(|at| norm[at..].iter().take_while(|t| t.chars().count() >= 3 && subject.contains(&t.as_str())).count())
        .max()
        .unwrap_or(0);
    let (label, avoid) = (longest(&q.labels).max(terms), longest(&q.avoid));
    let words = norm.iter().filter(|t| t.chars().any(char::is_alphabetic)).count().max(1);
    let cover = (label as f32 / words as f32).min(1.0);
    let fit = if label == 0 { 0.0 } else { (if label > 1 { 1.0 } else { 0.85 }) * (0.7 + 0.3 * cover) };
    if avoid >= label {
        fit * 0.2
    } else {
        fit
    }
}

/// The head of the column `left..right` above the value boxed `vbox`: pieces above that stand
/// in the column and name no figure, nearest first. Rows of figures above are the table's body
/// and are passed over; a row of figures above the head, a wide gap or a paragraph ends it.
fn head(pt: &PageText, pieces: &Pieces, vbox: &BBox, left: f32, right: f32) -> Vec<Piece> {
    // A head stands over the column; one spanning two columns stands half over each.
    let in_column = |b: &BBox| b.x1.min(right) - b.x0.max(left) >= 0.4 * b.width().min(right - left);
    // A table the layout found: its head stands inside it or just above it.
    let top = pt.layout.and_then(|layout| {
        layout
            .regions
            .iter()
            .filter(|r| r.label == Label::Table && r.bbox.contains_point(vbox.center()))
            .map(|r| r.bbox.y0 - HEAD_LINES as f32 * 2.0 * pt.line_height)
            .reduce(f32::min)
    });
    let mut above: Vec<Piece> = pieces
        .heads
        .iter()
        .filter(|c| pt.lines[c.line].bbox.y1 <= vbox.y0 + 0.3 * pt.line_height && in_column(&c.bbox))
        .copied()
        .collect();
    above.sort_by(|a, b| b.bbox.y1.total_cmp(&a.bbox.y1));
    let mut out: Vec<Piece> = Vec::new();
    let mut reach = vbox.y0;
    for c in above {
        let gap = reach - c.bbox.y1;
        if top.is_some_and(|t| c.bbox.y1 < t) || (!out.is_empty() && gap > 2.5 * pt.line_height) || c.end - c.start > 12
        {
            break;
        }
        // Heads are words ("Revenue", "€ million") or periods ("2023", "Sep. 30, 2023"); a dash
        // or a sign alone is a body cell.
        let words = c.words(pt);
        let text = words.iter().any(|w| w.chars().any(char::is_alphabetic)) && !words.iter().any(|w| is_figure(w));
        let is_head = text || !ReportPeriod::parse(&words.join(" "), pt.locale).is_empty();
        if !is_head {
            if out.is_empty() {
                continue;
            }
            break;
        }
        reach = reach.min(c.bbox.y0);
        out.push(c);
        if out.len() == HEAD_LINES {
            break;
        }
    }
    out
}

/// A printed figure: digits, with grouping, decimals, sign, brackets or a percent sign.
fn is_figure(word: &str) -> bool {
    let t = word.trim_matches(|c: char| matches!(c, '(' | ')' | '%' | '-' | '–' | '+' | '*' | ','));
    !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '\''))
}

/// Figures of neighbouring columns set close run together into one piece ("$ 572,543 $ 452,418"):
/// words `s..e` cut after each figure that another figure or a currency sign follows.
fn by_figure(printed: &[String], s: usize, e: usize) -> Vec<(usize, usize)> {
    let ends =
        |w: usize| is_figure(&printed[w]) && (is_figure(&printed[w + 1]) || currency_code(&printed[w + 1]).is_some());
    cut_after(s, e, ends)
}

/// Words `s..e` cut after each word `w` (before `e - 1`) that `ends(w)` accepts.
fn cut_after(s: usize, e: usize, ends: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = s;
    for w in s..e.saturating_sub(1) {
        if ends(w) {
            out.push((from, w + 1));
            from = w + 1;
        }
    }
    out.push((from, e));
    out
}

/// Heads of neighbouring columns set close run together into one piece ("Sep. 30, 2023 Sep.
/// 30, 2022"): words `s..e` cut after each year but the last.
fn by_year(printed: &[String], s: usize, e: usize) -> Vec<(usize, usize)> {
    cut_after(s, e, |w| is_year(&printed[w]) && printed[w + 1..e].iter().any(|t| is_year(t)))
}

/// A year printed as a word ("2023", "(2023)", "2023:").
fn is_year(word: &str) -> bool {
    year_of(word.trim_matches(|c: char| !c.is_ascii_digit())).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::tests::page_of_words;
    use crate::model::{Page, Word};
    use crate::values::Locale;

    /// A page of rows, each a list of (x, text) cells; rows 14 points apart.
    fn table_page(rows: &[&[(f32, &str)]]) -> Page {
        let rows = rows.iter().enumerate().map(|(r, cells)| {
            let y = 100.0 + 14.0 * r as f32;
            let mut row = Vec::new();
            for &(x0, text) in cells.iter() {
                let mut x = x0;
                for t in text.split_whitespace() {
                    let w = 5.0 * t.chars().count() as f32;
                    row.push(Word { text: t.into(), bbox: BBox::new(x, y, x + w, y + 10.0), size: 10.0, bold: false });
                    x += w + 3.0;
                }
            }
            row
        });
        page_of_words(rows.collect())
    }

    fn statement() -> Page {
        table_page(&[
            &[(50.0, "CONSOLIDATED STATEMENTS OF OPERATIONS")],
            &[(50.0, "(in thousands, except per share amounts)")],
            &[(290.0, "Three months ended"), (430.0, "Nine months ended")],
            &[(280.0, "Sep. 30, 2023"), (350.0, "Sep. 30, 2022"), (420.0, "Sep. 30, 2023"), (490.0, "Sep. 30, 2022")],
            &[(50.0, "Revenue"), (280.0, "$ 1,200"), (350.0, "$ 1,100"), (420.0, "$ 3,600"), (490.0, "$ 3,000")],
            &[(50.0, "Cost of revenue"), (280.0, "700"), (350.0, "650"), (420.0, "2,100"), (490.0, "1,900")],
        ])
    }

    #[test]
    fn a_value_reads_its_row_and_its_column_head() {
        let page = statement();
        let pt = PageText::new(&page, None, Locale { day_first: false });
        let pieces = Pieces::new(&pt);
        let at =
            |line: usize, word: usize| place(&pt, &pieces, line, word, word + 2, &pt.span_box(line, word, word + 2));
        let nine = at(4, 5).expect("a table place");
        assert_eq!(nine.head, "Nine months ended Sep. 30, 2023");
        assert_eq!((nine.period.year, nine.period.months, nine.period.end_month), (Some(2023), Some(9), Some(9)));
        assert_eq!((nine.scale, nine.currency, nine.label), (Some("thousands"), None, (4, 0, 1)));
        let three = at(4, 3).expect("a table place");
        assert_eq!((three.period.year, three.period.months), (Some(2022), Some(3)));
        // The title is no table row.
        assert_eq!(place(&pt, &pieces, 0, 0, 1, &pt.span_box(0, 0, 1)), None);
    }

    #[test]
    fn the_row_that_names_the_subject_fits() {
        let page = statement();
        let pt = PageText::new(&page, None, Locale { day_first: false });
        let q = Question::parse("What are the revenues for the 9-month period ending 2023-09-30?");
        let pieces = Pieces::new(&pt);
        let fit = |line: usize, start: usize, end: usize| {
            let p = place(&pt, &pieces, line, start, end, &pt.span_box(line, start, end)).unwrap();
            p.fit(&pt, &q)
        };
        let (revenue, cost) = (fit(4, 5, 7), fit(5, 5, 6));
        assert!(revenue >= 0.6, "{revenue}");
        assert!(cost < 0.3, "{cost}");
        assert!(fit(4, 1, 3) < 0.2, "the quarter's figure");
    }

    #[test]
    fn periods_down_the_rows_and_items_across_the_head() {
        let page = table_page(&[
            &[(50.0, "Key figures (€ million)")],
            &[(200.0, "Revenue"), (280.0, "EBIT"), (350.0, "Employees")],
            &[(50.0, "2023"), (200.0, "1,200"), (280.0, "300"), (350.0, "5,000")],
            &[(50.0, "2022"), (200.0, "1,100"), (280.0, "250"), (350.0, "4,800")],
        ]);
        let pt = PageText::new(&page, None, Locale::default());
        let q = Question::parse("What was the revenue in 2022?");
        let pieces = Pieces::new(&pt);
        let at =
            |line: usize, word: usize| place(&pt, &pieces, line, word, word + 1, &pt.span_box(line, word, word + 1));
        let revenue_2022 = at(3, 1).expect("a table place");
        assert_eq!(revenue_2022.head, "Revenue");
        assert_eq!(revenue_2022.row_period.as_ref().and_then(|p| p.year), Some(2022));
        assert!(revenue_2022.names_periods());
        assert_eq!((revenue_2022.scale, revenue_2022.currency), (Some("millions"), Some("EUR")));
        let fit = |line: usize, word: usize| at(line, word).unwrap().fit(&pt, &q);
        assert!(fit(3, 1) >= 0.7, "{}", fit(3, 1));
        assert!(fit(2, 1) < 0.2 && fit(3, 2) < 0.2, "another year's revenue, the year's EBIT");
    }

    #[test]
    fn cells_set_close_and_an_exception_to_the_unit() {
        // A reader that gives each cell its own line, figures set close, the unit's exception
        // closing on the next line.
        let page = table_page(&[
            &[(50.0, "(Dollars in millions, except per share")],
            &[(50.0, "amounts, and shares in thousands)")],
            &[(300.0, "2023"), (340.0, "2022")],
            &[(50.0, "Revenue"), (290.0, "$ 9,000 $ 8,000")],
        ]);
        let pt = PageText::new(&page, None, Locale { day_first: false });
        // "$ 9,000 $ 8,000": words 1..5 of the last line; 8,000 is words 3..5.
        let p = place(&pt, &Pieces::new(&pt), 3, 3, 5, &pt.span_box(3, 3, 5)).expect("a table place");
        assert_eq!((p.head.as_str(), p.scale, p.currency), ("2022", Some("millions"), None));
    }

    #[test]
    fn a_section_line_states_the_unit_another_rows_label_does_not() {
        let page = table_page(&[
            &[(300.0, "2023")],
            &[(50.0, "Highlights (€ in millions)")],
            &[(50.0, "Shares (in thousands)"), (300.0, "120")],
            &[(50.0, "Revenue"), (300.0, "9,000")],
        ]);
        let pt = PageText::new(&page, None, Locale::default());
        let p = place(&pt, &Pieces::new(&pt), 3, 1, 2, &pt.span_box(3, 1, 2)).expect("a table place");
        assert_eq!((p.head.as_str(), p.scale, p.currency), ("2023", Some("millions"), Some("EUR")));
    }
}
