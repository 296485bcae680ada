//! Asking a document a question. The answer is words on a page, with the page and box they
//! stand in (its evidence), a normal form (ISO date, decimal amount and currency, ...) and a
//! confidence; or an honest "not found" with the best guesses and their low confidence.
//!
//! A stage: its inputs (the pages, their layouts, the models) are arguments.
//!
//! - [`question`]: what the question wants (a date, an amount, a name...) and its label words.
//! - [`labels`]: the page as lines of tokens; where labels stand; how a value hangs off one.
//!   Typed values (dates, amounts...) are [`crate::values`]'.
//! - [`extractive`]: the default [`Answerer`] (no large model): candidates and their scores.
//! - [`forms`]: the values of the filled form fields and form keys a question names.
//! - [`tables`]: where a value stands in a table (its row's label, its column's head and
//!   period, the table's scale).
//! - [`spans`]: free-text candidates (names, addresses, places, sentences); [`parties`]: a
//!   contract's parties.
//! - [`meaning`]: labels found by sentence embeddings ([`crate::embed`]).
//! - [`visual`]: the vision-language answerer (Qwen3-VL), grounded and checked against the page.

pub mod extractive;
pub mod forms;
pub mod labels;
pub mod lexicon;
pub mod meaning;
pub mod parties;
pub mod question;
pub mod ranker;
pub mod spans;
pub mod tables;
pub mod visual;

use crate::embed::Meaning;
use crate::model::{Answer, BBox, Evidence, Guess, Page, PageLayout, PageSource, Target};
use crate::values;
use crate::{Error, Result};

use labels::PageText;
pub use question::Question;
use ranker::Ranker;
use std::sync::Arc;

/// Longest question accepted (characters).
pub const MAX_QUESTION_CHARS: usize = 1000;
/// How the reason for "not found" starts when pages have no text yet (a front end may say how
/// to read them).
pub const NEEDS_READER: &str = "needs a reader";
/// Confidence from which an answer is given as found.
pub const FOUND: f32 = 0.3;

/// Something that answers questions about a document's pages. The extractive answerer is the
/// default; the vision-language one ([`visual::Visual`]) plugs in here too.
pub trait Answerer {
    /// What answers (stored with extracted values, so that another answerer's values are not
    /// taken for its own).
    fn name(&self) -> &str {
        "extractive"
    }
    fn answer(&mut self, pages: &[PageText], question: &Question) -> Answer;
    /// Every candidate above `min` (a list field: parties, line items).
    fn answer_all(&mut self, pages: &[PageText], question: &Question, min: f32) -> Vec<Guess>;
}

/// A borrowed answerer answers as itself (so one kept for a session can be lent out).
impl<A: Answerer + ?Sized> Answerer for &mut A {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn answer(&mut self, pages: &[PageText], question: &Question) -> Answer {
        (**self).answer(pages, question)
    }
    fn answer_all(&mut self, pages: &[PageText], question: &Question, min: f32) -> Vec<Guess> {
        (**self).answer_all(pages, question, min)
    }
}

/// A scored candidate answer on one page.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub page: u32,
    pub text: String,
    pub normalized: String,
    pub score: f32,
    pub label: Option<String>,
    pub currency: Option<&'static str>,
    /// The scale a table states the amount in ("millions").
    pub unit: Option<&'static str>,
    pub boxes: Vec<BBox>,
    /// Where its evidence comes from: the page's reader ("text-layer", "ocr", "vlm") or a filled
    /// PDF form field ("form-field").
    pub source: &'static str,
}

impl Candidate {
    /// Words `start..end` of line `line`; an empty `normalized` means the text itself.
    pub fn new(
        pt: &PageText,
        line: usize,
        start: usize,
        end: usize,
        normalized: String,
        score: f32,
        label: Option<String>,
    ) -> Candidate {
        let text = pt.span_text(line, start, end);
        let normalized = if normalized.is_empty() { text.clone() } else { normalized };
        Candidate {
            page: pt.page.page,
            text,
            normalized,
            score: score.clamp(0.0, 1.0),
            label,
            currency: None,
            unit: None,
            boxes: vec![pt.span_box(line, start, end)],
            source: pt.page.source.as_str(),
        }
    }

    /// Whole lines `start..end` (an address over several lines).
    pub fn lines(pt: &PageText, start: usize, end: usize, score: f32) -> Candidate {
        let text = (start..end).map(|l| pt.lines[l].printed.join(" ")).collect::<Vec<_>>().join(" ");
        let boxes = (start..end).map(|l| pt.lines[l].bbox).collect();
        Candidate::whole(pt, text, boxes, score, None)
    }

    /// Words anywhere on the page, given as (line, word) in reading order; one box per line.
    pub fn words(pt: &PageText, span: &[(usize, usize)], score: f32, label: Option<String>) -> Candidate {
        let text = span.iter().map(|&(l, w)| pt.lines[l].printed[w].as_str()).collect::<Vec<_>>().join(" ");
        let text = text.trim_end_matches([',', ';', ':']).to_string();
        let mut boxes: Vec<BBox> = Vec::new();
        let mut last_line = usize::MAX;
        for &(l, w) in span {
            let b = pt.page.words[pt.lines[l].words[w] as usize].bbox;
            match boxes.last_mut() {
                Some(last) if l == last_line => *last = last.union(&b),
                _ => boxes.push(b),
            }
            last_line = l;
        }
        Candidate::whole(pt, text, boxes, score, label)
    }

    /// A value as given whole (lines of an address, a form's value): its text as its normal
    /// form, and its boxes.
    pub fn whole(pt: &PageText, text: String, boxes: Vec<BBox>, score: f32, label: Option<String>) -> Candidate {
        Candidate {
            page: pt.page.page,
            normalized: text.clone(),
            text,
            score: score.clamp(0.0, 1.0),
            label,
            currency: None,
            unit: None,
            boxes,
            source: pt.page.source.as_str(),
        }
    }

    pub fn with_currency(mut self, currency: Option<&'static str>) -> Candidate {
        self.currency = currency;
        self
    }

    fn guess(&self) -> Guess {
        let evidence = self
            .boxes
            .iter()
            .map(|b| Evidence {
                page: self.page,
                bbox: b.rounded(),
                source: self.source.to_string(),
                text: self.text.clone(),
            })
            .collect();
        Guess {
            answer: self.text.clone(),
            normalized: self.normalized.clone(),
            confidence: (self.score * 1000.0).round() / 1000.0,
            evidence,
            label: self.label.clone(),
        }
    }
}

/// The default answerer: layout-aware extraction, no large model.
pub struct Extractive {
    pub meaning: Meaning,
    /// The fitted ranking of candidates (the bundled one; evaluation swaps in others).
    pub ranker: Arc<Ranker>,
}

impl Extractive {
    /// With sentence embeddings when `meaning` has the model (see [`Meaning::installed`]).
    pub fn new(meaning: Meaning) -> Extractive {
        Extractive { meaning, ranker: Ranker::bundled() }
    }

    /// Every candidate on the pages with its hand score (before the fitted ranking), as the
    /// ranking's features are computed from them: what `pagewise-dev fit-ranker` fits on.
    pub fn hand_scored(&mut self, pages: &[PageText], q: &Question) -> Vec<Candidate> {
        let mut all = Vec::new();
        for pt in pages {
            // A form field or key the question names: its value is a candidate; the label or
            // key itself never is.
            let (fields, labels) = forms::field_candidates(pt, q);
            let named = forms::named_keys(pt, q);
            all.extend(fields);
            all.extend(forms::candidates(pt, q, &named));
            let keys: Vec<BBox> = named.iter().map(|(kv, _)| kv.key_bbox).chain(labels).collect();
            let found = extractive::candidates(pt, q, &mut self.meaning);
            all.extend(found.into_iter().filter(|c| !forms::is_named_key(&keys, q, c)));
        }
        all
    }

    /// Candidates over all pages, best first (by the fitted ranking where there is one for the
    /// question), one per distinct normal form.
    fn ranked(&mut self, pages: &[PageText], q: &Question) -> Vec<Candidate> {
        let mut all = self.hand_scored(pages, q);
        // A filled form field's value is as stored: its score is how well its name matches.
        let (fields, mut all): (Vec<Candidate>, Vec<Candidate>) =
            all.drain(..).partition(|c| c.source == forms::FORM_FIELD);
        self.ranker.rescore(&mut all, pages, q);
        all.extend(fields);
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.page.cmp(&b.page)));
        let mut seen = std::collections::HashSet::new();
        all.retain(|c| seen.insert(c.normalized.to_lowercase()));
        all
    }
}

impl Answerer for Extractive {
    fn answer(&mut self, pages: &[PageText], q: &Question) -> Answer {
        let ranked = self.ranked(pages, q);
        let guesses: Vec<Guess> = ranked.iter().take(5).map(Candidate::guess).collect();
        let best = ranked.first().filter(|c| c.score >= FOUND);
        let reason = match (best, pages.iter().all(|p| p.lines.is_empty())) {
            (Some(_), _) => None,
            (None, true) => Some(no_text_reason(pages)),
            (None, false) => Some(format!(
                "no {} on the page{} reads as the answer with enough confidence",
                target_noun(q.target),
                if pages.len() == 1 { "" } else { "s" }
            )),
        };
        Answer {
            question: q.text.clone(),
            target: q.target,
            found: best.is_some(),
            answer: best.map(|c| c.text.clone()),
            normalized: best.map(|c| c.normalized.clone()),
            currency: best.and_then(|c| c.currency).map(str::to_string),
            unit: best.and_then(|c| c.unit).map(str::to_string),
            confidence: ranked.first().map_or(0.0, |c| (c.score * 1000.0).round() / 1000.0),
            evidence: best.map(|c| c.guess().evidence).unwrap_or_default(),
            guesses,
            reason,
            checks: None,
        }
    }

    fn answer_all(&mut self, pages: &[PageText], q: &Question, min: f32) -> Vec<Guess> {
        self.ranked(pages, q).iter().filter(|c| c.score >= min).take(10).map(Candidate::guess).collect()
    }
}

fn target_noun(t: Target) -> &'static str {
    match t {
        Target::Date => "date",
        Target::Money => "amount",
        Target::Percent => "percentage",
        Target::Period => "duration",
        Target::Currency => "currency",
        Target::Identifier => "number",
        Target::Name => "name",
        Target::Address => "address",
        Target::Place => "place",
        Target::Text => "passage",
    }
}

fn no_text_reason(pages: &[PageText]) -> String {
    let unread: Vec<String> =
        pages.iter().filter(|p| p.page.source == PageSource::NeedsReader).map(|p| p.page.page.to_string()).collect();
    if unread.is_empty() {
        "the pages have no text".to_string()
    } else {
        format!("{NEEDS_READER}: page(s) {} have no text yet", unread.join(", "))
    }
}

/// Check a question as typed: not empty, not absurdly long.
pub fn parse_question(text: &str) -> Result<Question> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        return Err(Error::BadQuestion { detail: "the question is empty".into() });
    }
    if chars > MAX_QUESTION_CHARS {
        return Err(Error::BadQuestion {
            detail: format!("the question is {chars} characters long; at most {MAX_QUESTION_CHARS} are accepted"),
        });
    }
    Ok(Question::parse(text))
}

/// A document's pages (or one page) with their layout, ready for questions.
pub struct Prepared {
    pub pages: Vec<Page>,
    pub layouts: Vec<PageLayout>,
    pub locale: values::Locale,
}

impl Prepared {
    /// `pages` and their layouts; `locale` is how the document writes dates and numbers (see
    /// [`values::guess_locale`], over all its pages even when only some are asked about).
    pub fn new(pages: Vec<Page>, layouts: Vec<PageLayout>, locale: values::Locale) -> Prepared {
        Prepared { pages, layouts, locale }
    }

    pub fn view(&self) -> Vec<PageText<'_>> {
        self.pages
            .iter()
            .map(|p| PageText::new(p, self.layouts.iter().find(|l| l.page == p.page), self.locale))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::model::{BBox, Line, Page, PageSource, Word};

    /// A text-layer page with one line per row, its words 80 points apart, rows 20 apart.
    pub(crate) fn page_of_rows(rows: &[&str]) -> Page {
        let rows = rows.iter().enumerate().map(|(r, row)| {
            let y = 100.0 + r as f32 * 20.0;
            row.split_whitespace()
                .enumerate()
                .map(|(i, t)| {
                    let x = 50.0 + i as f32 * 80.0;
                    Word { text: t.to_string(), bbox: BBox::new(x, y, x + 70.0, y + 12.0), size: 10.0, bold: false }
                })
                .collect()
        });
        page_of_words(rows.collect())
    }

    /// A text-layer page with one line per row of words.
    pub(crate) fn page_of_words(rows: Vec<Vec<Word>>) -> Page {
        let (mut words, mut lines) = (Vec::new(), Vec::new());
        for row in rows {
            let ids: Vec<u32> = (words.len() as u32..(words.len() + row.len()) as u32).collect();
            words.extend(row);
            let bbox = ids.iter().map(|&w| words[w as usize].bbox).reduce(|a: BBox, b| a.union(&b)).unwrap();
            lines.push(Line { words: ids, bbox, block: 0 });
        }
        Page::of_words(PageSource::TextLayer, words, lines)
    }
}
