//! The extractive answerer: every value on the pages that has the kind the question wants is a
//! candidate, scored by the labels it sits beside (on its line, its row, under them, under a
//! column header), by the key-value pairs of layout analysis, and by what the embedding model
//! says a label means. Free-text answers (names, addresses, places) come from
//! [`super::spans`]. No value is ever made up: each candidate is words on a page.

use std::collections::HashMap;

use crate::model::BBox;

use super::labels::{label_hits, link, LabelHit, PageText};
use super::question::Question;
use super::tables::{self, TablePlace};
use super::{spans, Candidate};
use crate::embed::Meaning;
use crate::model::Target;
use crate::values::ValueKind;

/// Candidates on one page, best first.
pub fn candidates(pt: &PageText, q: &Question, meaning: &mut Meaning) -> Vec<Candidate> {
    let mut hits = label_hits(pt, q);
    hits.extend(super::meaning::label_hits(meaning, pt, q, &hits));
    let mut found = match q.target {
        Target::Date | Target::Money | Target::Percent | Target::Period => typed(pt, q, &hits),
        Target::Currency => currency(pt, &hits),
        Target::Identifier => identifiers(pt, &hits),
        Target::Name | Target::Address | Target::Place | Target::Text => spans::candidates(pt, q, &hits, meaning),
    };
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found
}

pub(super) fn kind_of(target: Target) -> Option<ValueKind> {
    match target {
        Target::Date => Some(ValueKind::Date),
        Target::Money => Some(ValueKind::Money),
        Target::Percent => Some(ValueKind::Percent),
        Target::Period => Some(ValueKind::Period),
        _ => None,
    }
}

/// The best label link of a value and the strongest contrasting one.
/// A second label pointing at the same value (a heading "Term" and "continuing for" beside it)
/// adds a little to the best one.
fn linked(pt: &PageText, hits: &[LabelHit], line: usize, start: usize, vbox: &BBox) -> (f32, f32, Option<usize>) {
    let (mut best, mut second, mut worst, mut via) = (0.0f32, 0.0f32, 0.0f32, None);
    for (i, h) in hits.iter().enumerate() {
        let s = h.score * link(pt, h, line, start, vbox);
        if h.avoid {
            worst = worst.max(s);
        } else if s > best {
            second = best;
            best = s;
            via = Some(i);
        } else {
            second = second.max(s);
        }
    }
    ((best + 0.3 * second).min(1.0), worst, via)
}

/// Final score from the label evidence and a prior; a contrasting label nearer than the
/// wanted one pulls the value down.
fn combine(best: f32, worst: f32, prior: f32) -> f32 {
    let s = best.max(prior);
    if worst > best {
        s * 0.35
    } else {
        s
    }
}

fn typed(pt: &PageText, q: &Question, hits: &[LabelHit]) -> Vec<Candidate> {
    let kind = kind_of(q.target).expect("typed target");
    // A total is the largest amount on its page as a rule; a slight preference, no more.
    let wants_total = q.labels.iter().any(|l| l == "grand total");
    let largest = pt
        .lines
        .iter()
        .flat_map(|l| &l.values)
        .filter(|v| v.kind == ValueKind::Money)
        .filter_map(|v| v.normalized.parse::<f64>().ok())
        .fold(f64::MIN, f64::max);
    // A page with one date on it (however often printed) is dated by it.
    let mut dates: Vec<&str> = pt
        .lines
        .iter()
        .flat_map(|l| &l.values)
        .filter(|v| v.kind == ValueKind::Date)
        .map(|v| v.normalized.as_str())
        .collect();
    dates.sort();
    dates.dedup();
    // A summary label printed several times (section subtotals, then the invoice's): the last
    // one sums up.
    let summary = q.labels.iter().any(|l| matches!(l.as_str(), "grand total" | "subtotal" | "tax amount"));
    let label_text = |h: &LabelHit| pt.lines[h.line].norm[h.start..h.end].join(" ");
    let last_of =
        |h: &LabelHit| !hits.iter().any(|o| !o.avoid && label_text(o) == label_text(h) && o.bbox.y0 > h.bbox.y1);
    // Figures may stand in tables (see below): the page cut into cells once.
    let pieces = matches!(kind, ValueKind::Money | ValueKind::Percent).then(|| tables::Pieces::new(pt));
    let mut out = Vec::new();
    for (li, line) in pt.lines.iter().enumerate() {
        for v in line.values.iter().filter(|v| v.kind == kind) {
            let tokens = pt.value_tokens(li, v);
            let printed: Vec<String> = tokens.iter().map(|&(l, w)| pt.lines[l].printed[w].clone()).collect();
            let vbox = pt.span_box(li, v.start, v.end);
            let (best, worst, via) = linked(pt, hits, li, v.start, &vbox);
            let mut prior = match kind {
                // Amounts with cents or a currency look like money; bare integers barely do.
                ValueKind::Money
                    if v.currency.is_some() || v.normalized.ends_with(".00") && printed[0].contains(['.', ',']) =>
                {
                    0.12
                }
                ValueKind::Money if printed.iter().any(|w| w.contains(['.', ','])) => 0.1,
                ValueKind::Money => 0.02,
                // The first date of a page is most often the document's date.
                // ... but its due date is only where a label says so.
                ValueKind::Date if q.labels.iter().any(|l| l == "due date") => 0.03,
                ValueKind::Date if dates.len() == 1 => 0.45,
                ValueKind::Date => 0.2 / (1.0 + out.len() as f32),
                _ => 0.1,
            };
            if pt.page.page > 1 {
                prior *= 0.7;
            }
            let mut score = combine(best, worst, prior) * shape(kind, &printed, v.currency.is_some());
            if summary && via.is_some_and(|i| !last_of(&hits[i])) {
                score *= 0.85;
            }
            // In a table: the column's head and the row's label say what the figure is.
            // (A value read on into the next line: its cell is all its words.)
            let place = pieces.as_ref().and_then(|pieces| {
                let whole = tokens.iter().map(|&(l, w)| pt.span_box(l, w, w + 1)).reduce(|a, b| a.union(&b));
                tables::place(pt, pieces, li, v.start, v.end, &whole.unwrap_or(vbox))
            });
            if q.period.year.is_some() {
                score *= 0.25 + place.as_ref().map_or(0.5, |p| p.period_fit(&q.period));
                if let Some(p) = &place {
                    score = score.max(0.95 * p.fit(pt, q));
                }
            }
            // Summary amounts (totals, subtotals, tax) close a page: lower ones a little more likely.
            if kind == ValueKind::Money {
                score *= 0.95 + 0.08 * (vbox.y0 / pt.page.height.max(1.0)).clamp(0.0, 1.0);
            }
            if wants_total && v.normalized.parse::<f64>().ok() == Some(largest) {
                score = (score * 1.1).min(1.0);
            }
            let label = via.map(|i| {
                let h = &hits[i];
                pt.span_text(h.line, h.start, h.end)
            });
            // A table of periods' figures states their unit (an invoice's items table is none).
            let periods = place.filter(TablePlace::names_periods);
            let mut c = Candidate::words(pt, &tokens, score, label)
                .with_currency(v.currency.or(periods.as_ref().and_then(|p| p.currency)));
            c.unit = periods.and_then(|p| p.scale);
            c.normalized = v.normalized.clone();
            out.push(c);
        }
    }
    out
}

/// How much a value's printed form looks like its kind: an amount has cents, grouping or a
/// currency; a long bare integer is an account or order number, not an amount.
fn shape(kind: ValueKind, printed: &[String], currency: bool) -> f32 {
    if kind != ValueKind::Money || currency || printed.iter().any(|w| w.contains(['.', ','])) {
        return 1.0;
    }
    let digits = printed.iter().map(|w| w.chars().filter(char::is_ascii_digit).count()).sum::<usize>();
    if digits > 6 {
        0.1
    } else {
        0.6
    }
}

/// The currency: a labelled code, else the one printed beside the amounts (most often), else
/// any code on the page.
fn currency(pt: &PageText, hits: &[LabelHit]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for line in &pt.lines {
        for v in &line.values {
            if let Some(c) = v.currency {
                *counts.entry(c).or_default() += 1;
            }
        }
    }
    let total: usize = counts.values().sum::<usize>().max(1);
    for (li, line) in pt.lines.iter().enumerate() {
        for v in &line.values {
            let Some(code) = v.currency else { continue };
            let vbox = pt.span_box(li, v.start, v.end);
            let (best, worst, via) = linked(pt, hits, li, v.start, &vbox);
            let share = counts[code] as f32 / total as f32;
            let score =
                combine(best, worst, 0.3 + 0.4 * share) * if v.kind == ValueKind::Currency { 1.0 } else { 0.95 };
            let label = via.map(|i| pt.span_text(hits[i].line, hits[i].start, hits[i].end));
            // Evidence is the printed sign or code (or the amount it is glued to).
            let (s, e) = if v.kind == ValueKind::Money && v.end - v.start == 2 {
                let sign_first = crate::values::currency_code(&line.printed[v.start]).is_some();
                if sign_first {
                    (v.start, v.start + 1)
                } else {
                    (v.end - 1, v.end)
                }
            } else {
                (v.start, v.end)
            };
            out.push(Candidate::new(pt, li, s, e, code.to_string(), score, label));
        }
    }
    out
}

/// Identifiers: a token with digits (or a code-like token) beside an identifier label.
fn identifiers(pt: &PageText, hits: &[LabelHit]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (li, line) in pt.lines.iter().enumerate() {
        for (wi, word) in line.printed.iter().enumerate() {
            let t = word.trim_matches(|c: char| matches!(c, ':' | ',' | ';' | '(' | ')' | '.'));
            let t = t.trim_start_matches('#');
            let digits = t.chars().filter(char::is_ascii_digit).count();
            if t.chars().count() < 3
                || digits == 0
                || line.values.iter().any(|v| v.kind == ValueKind::Date && wi >= v.start && wi < v.end)
            {
                continue;
            }
            // Part of a label ("No." after "Invoice") is never the value.
            if hits.iter().any(|h| h.line == li && wi >= h.start && wi < h.end) {
                continue;
            }
            let vbox = pt.span_box(li, wi, wi + 1);
            let (best, worst, via) = linked(pt, hits, li, wi, &vbox);
            // Amounts with decimals are seldom identifiers.
            let money_like = t.contains(['.', ',']) && t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',');
            let shape = if money_like { 0.4 } else { 1.0 };
            let score = combine(best, worst, 0.03) * shape;
            let label = via.map(|i| pt.span_text(hits[i].line, hits[i].start, hits[i].end));
            out.push(Candidate::new(pt, li, wi, wi + 1, t.to_string(), score, label));
        }
    }
    out
}
