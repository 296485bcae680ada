//! A page as the answerer sees it (lines of normalised tokens), and where on it the labels a
//! question looks for are printed: by the words themselves, by the label lexicon, and by meaning
//! (sentence embeddings) when the embedding model is installed.

pub use super::lexicon::norm_token;
use super::question::Question;
use crate::model::{BBox, Page, PageLayout};
use crate::values::{find_values_spaced, Locale, Typed};

/// One line of a page, with its words as printed and normalised for matching.
#[derive(Debug, Clone)]
pub struct LineText {
    pub words: Vec<u32>,
    pub bbox: BBox,
    pub printed: Vec<String>,
    /// Lowercase, without surrounding punctuation (`Invoice-No.:` -> `invoice-no`).
    pub norm: Vec<String>,
    pub values: Vec<Typed>,
}

/// A page ready to be asked about.
pub struct PageText<'a> {
    pub page: &'a Page,
    pub layout: Option<&'a PageLayout>,
    pub lines: Vec<LineText>,
    /// Typical line height on the page (points).
    pub line_height: f32,
    /// How the document writes dates and numbers.
    pub locale: Locale,
}

impl<'a> PageText<'a> {
    pub fn new(page: &'a Page, layout: Option<&'a PageLayout>, locale: Locale) -> Self {
        let following: Vec<&Vec<u32>> = page.lines.iter().map(|l| &l.words).collect();
        let lines: Vec<LineText> = page
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let printed: Vec<String> = l.words.iter().map(|&w| page.words[w as usize].text.clone()).collect();
                let refs: Vec<&str> = printed.iter().map(String::as_str).collect();
                // Words a space apart, not a column's gap ("2 700,54" is one amount).
                let tight: Vec<bool> = l
                    .words
                    .windows(2)
                    .map(|p| {
                        let (a, b) = (page.words[p[0] as usize].bbox, page.words[p[1] as usize].bbox);
                        b.x0 - a.x1 < 0.75 * a.height().max(b.height())
                    })
                    .collect();
                // A value may run on to the next line ("June 22," / "2016"): read on a few words.
                let mut refs = refs;
                if let Some(next) = following.get(i + 1) {
                    refs.extend(next.iter().take(3).map(|w| page.words[*w as usize].text.as_str()));
                }
                let values: Vec<Typed> =
                    find_values_spaced(&refs, &tight, locale).into_iter().filter(|v| v.start < printed.len()).collect();
                LineText {
                    words: l.words.clone(),
                    bbox: l.bbox,
                    norm: printed.iter().map(|t| norm_token(t)).collect(),
                    printed,
                    values,
                }
            })
            .collect();
        let mut heights: Vec<f32> = lines.iter().map(|l| l.bbox.height()).filter(|h| *h > 0.0).collect();
        heights.sort_by(f32::total_cmp);
        let line_height = heights.get(heights.len() / 2).copied().unwrap_or(10.0).max(1.0);
        PageText { page, layout, lines, line_height, locale }
    }

    /// The box of words `start..end` of line `line`.
    pub fn span_box(&self, line: usize, start: usize, end: usize) -> BBox {
        let l = &self.lines[line];
        let words = &l.words[start..end.min(l.words.len())];
        words.iter().skip(1).fold(words.first().map_or(l.bbox, |&w| self.page.words[w as usize].bbox), |acc, &w| {
            acc.union(&self.page.words[w as usize].bbox)
        })
    }

    /// A line cut where its words stand a column's gap apart (wider than its type is high): a
    /// letterhead and a title on one baseline, two blocks side by side. Word ranges, in order.
    pub fn pieces(&self, line: usize) -> Vec<(usize, usize)> {
        let words = &self.lines[line].words;
        let bbox = |k: usize| self.page.words[words[k] as usize].bbox;
        let mut out = Vec::new();
        let mut start = 0;
        for k in 1..words.len() {
            let (a, b) = (bbox(k - 1), bbox(k));
            if b.x0 - a.x1 > a.height().max(b.height()) {
                out.push((start, k));
                start = k;
            }
        }
        if !words.is_empty() {
            out.push((start, words.len()));
        }
        out
    }

    /// Every word of the page in reading order, as (line, word).
    pub fn tokens(&self) -> Vec<(usize, usize)> {
        self.lines.iter().enumerate().flat_map(|(li, l)| (0..l.printed.len()).map(move |wi| (li, wi))).collect()
    }

    /// The (line, word) positions of a value found on `line`; it may end on the next line.
    pub fn value_tokens(&self, line: usize, v: &Typed) -> Vec<(usize, usize)> {
        let n = self.lines[line].printed.len();
        (v.start..v.end)
            .map(|k| if k < n { (line, k) } else { (line + 1, k - n) })
            .filter(|&(l, w)| l < self.lines.len() && w < self.lines[l].printed.len())
            .collect()
    }

    pub fn span_text(&self, line: usize, start: usize, end: usize) -> String {
        self.lines[line].printed[start..end.min(self.lines[line].printed.len())].join(" ")
    }
}

/// Where a label the question looks for (or one it must not be confused with) is printed.
#[derive(Debug, Clone)]
pub struct LabelHit {
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub bbox: BBox,
    pub score: f32,
    /// A contrasting label (`due date` when the invoice date is asked).
    pub avoid: bool,
}

/// Does `phrase` (already lowercase, split on spaces) occur in `tokens` at `at`? Tokens may
/// carry a compound's head (`rechnungsdatum` for `datum` is not taken: whole tokens only, but a
/// token may extend a long phrase word, as `totals` for `total`).
pub(super) fn matches_at(tokens: &[String], at: usize, phrase: &[&str]) -> bool {
    phrase.iter().enumerate().all(|(k, p)| {
        tokens.get(at + k).is_some_and(|t| {
            let t = t.as_str();
            t == *p || (p.chars().count() >= 4 && t.starts_with(p) && t.chars().count() <= p.chars().count() + 2)
        })
    })
}

/// Labels found on a page for a question: lexicon phrases and the question's own words.
pub fn label_hits(pt: &PageText, q: &Question) -> Vec<LabelHit> {
    let mut hits = Vec::new();
    let phrases: Vec<(Vec<&str>, bool)> = q
        .labels
        .iter()
        .map(|p| (p.split_whitespace().collect::<Vec<_>>(), false))
        .chain(q.avoid.iter().map(|p| (p.split_whitespace().collect::<Vec<_>>(), true)))
        .collect();
    for (li, line) in pt.lines.iter().enumerate() {
        // Words in parentheses qualify a label ("Total Sales (Inclusive of GST)"), never head it.
        let mut depth = 0i32;
        let inside: Vec<bool> = line
            .printed
            .iter()
            .map(|w| {
                depth += w.matches('(').count() as i32;
                let was = depth > 0;
                depth = (depth - w.matches(')').count() as i32).max(0);
                was
            })
            .collect();
        for at in 0..line.norm.len() {
            if inside[at] {
                continue;
            }
            let mut best: Option<(usize, f32, bool)> = None;
            for (phrase, avoid) in &phrases {
                if matches_at(&line.norm, at, phrase) {
                    let score = if phrase.len() > 1 { 1.0 } else { 0.8 };
                    if best.is_none_or(|(n, s, _)| phrase.len() > n || (phrase.len() == n && score > s)) {
                        best = Some((phrase.len(), score, *avoid));
                    }
                }
            }
            // The question's own content words, where the lexicon has nothing (not its month
            // names: "ending December 2023" says which column, it is no label).
            let label_word = |t: &String| t.chars().count() >= 3 && crate::values::month(t).is_none();
            if best.is_none() && q.terms.iter().any(|t| label_word(t) && line.norm[at] == *t) {
                let run = (at..line.norm.len()).take_while(|&k| q.terms.contains(&line.norm[k])).count();
                let share = run as f32 / q.terms.len().max(1) as f32;
                best = Some((run, 0.45 + 0.4 * share.min(1.0), false));
            }
            if let Some((n, score, avoid)) = best {
                // A label reads as a label: at the start of its line, or ending in ':'. One
                // common word in mid-line ("debris from case") is seldom one.
                let colon = line.printed[at + n - 1].ends_with(':');
                let lead = if at == 0 || colon {
                    1.0
                } else if n == 1 {
                    0.6
                } else {
                    0.85
                };
                let terms_here =
                    q.terms.iter().filter(|t| line.norm.contains(t)).count() as f32 / q.terms.len().max(1) as f32;
                hits.push(LabelHit {
                    line: li,
                    start: at,
                    end: at + n,
                    bbox: pt.span_box(li, at, at + n),
                    score: (score * lead * (0.85 + 0.15 * terms_here)).min(1.0),
                    avoid,
                });
            }
        }
    }
    // A line headed by a contrasting label ("Cost of revenue—inventory sales") is about that.
    let headed_by_avoid: Vec<usize> = hits.iter().filter(|h| h.avoid && h.start == 0).map(|h| h.line).collect();
    hits.retain(|h| h.avoid || !headed_by_avoid.contains(&h.line));
    // Overlapping hits on a line: keep the longest.
    hits.sort_by(|a, b| (a.line, a.start, b.end).cmp(&(b.line, b.start, a.end)));
    let mut kept: Vec<LabelHit> = Vec::new();
    for h in hits {
        if kept.last().is_some_and(|k| k.line == h.line && h.start < k.end) {
            continue;
        }
        kept.push(h);
    }
    kept
}

/// How strongly a value at `vbox` on line `vline` (words from `vstart`) reads as the value of
/// the label `h`: paired with it by layout analysis (a key-value region), on its line after it,
/// on its row to the right, under it, or under it as a column header. 0 when it is none of these.
pub fn link(pt: &PageText, h: &LabelHit, vline: usize, vstart: usize, vbox: &BBox) -> f32 {
    let geometric = geometric_link(pt, h, vline, vstart, vbox);
    // Layout analysis paired this key with this value: as strong as a label can be.
    if paired_by_layout(pt, &h.bbox, vbox) {
        return geometric.max(1.0);
    }
    geometric
}

/// Does a key-value region of the page's layout (its rules, which are certain of what they pair)
/// hold the label as its key and the value in its value? The forms model's pairs are likelier or
/// less likely: they give candidates of their own, as likely as they are ([`super::forms`]).
fn paired_by_layout(pt: &PageText, label: &BBox, value: &BBox) -> bool {
    let Some(layout) = pt.layout else { return false };
    layout.regions.iter().filter_map(|r| r.pair.as_ref()).any(|kv| {
        kv.key_bbox.grow(1.0).contains_point(label.center()) && kv.value_bbox.grow(1.0).contains_point(value.center())
    })
}

fn geometric_link(pt: &PageText, h: &LabelHit, vline: usize, vstart: usize, vbox: &BBox) -> f32 {
    let lb = &h.bbox;
    let width = pt.page.width.max(1.0);
    let lh = pt.line_height;
    if vline == h.line {
        if vstart < h.end {
            return 0.0;
        }
        let between = pt.lines[vline].values.iter().filter(|v| v.start >= h.end && v.end <= vstart).count();
        let gap = (vbox.x0 - lb.x1).max(0.0) / width;
        return (1.0 - 0.25 * gap.min(0.8)) * 0.88f32.powi(between as i32);
    }
    let same_row = lb.v_overlap(vbox) >= 0.5 * lb.height().min(vbox.height()).max(1.0);
    if same_row && vbox.x0 >= lb.x1 - 2.0 {
        let gap = (vbox.x0 - lb.x1) / width;
        // Values on the row between the label and this one make this one less likely.
        let between = pt
            .lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                *i != vline
                    && *i != h.line
                    && l.bbox.v_overlap(lb) > 0.5 * lh.min(l.bbox.height())
                    && l.bbox.x0 >= lb.x1
                    && l.bbox.x1 <= vbox.x0
                    && !l.values.is_empty()
            })
            .count();
        // Amounts are often right-aligned far from their label: distance counts only a little.
        return (0.95 - 0.25 * gap.min(0.8)) * 0.85f32.powi(between as i32);
    }
    let dy = vbox.y0 - lb.y1;
    let overlaps = lb.grow(lh).h_overlap(vbox) > 0.0;
    if dy >= -2.0 && overlaps {
        if dy <= 2.5 * lh {
            return 0.85;
        }
        // A column header above its cells.
        if dy <= pt.page.height * 0.5 {
            return 0.55 * (1.0 - dy / pt.page.height);
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_tokens_or_short_extensions() {
        let toks: Vec<String> = ["invoice", "no", "totals", "rechnungsdatum"].iter().map(|s| s.to_string()).collect();
        assert!(matches_at(&toks, 0, &["invoice", "no"]));
        assert!(matches_at(&toks, 2, &["total"]));
        assert!(!matches_at(&toks, 3, &["rechnungs"]));
        assert!(matches_at(&toks, 3, &["rechnungsdatum"]));
        assert_eq!(norm_token("Invoice-No.:"), "invoice-no");
    }
}
