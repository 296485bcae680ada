//! Answers from forms. A filled PDF form field (AcroForm) whose name or printed label the
//! question names gives its value as stored, scored by how well the name matches (first where it
//! matches fully, as nothing read from the page scores higher than a sure match). A
//! key-value of the page's layout (a form's "Location" and what is filled in beside it) whose key
//! the question names gives its value, as likely as the key matches the question and the pairing
//! is sure; and no candidate is the words of a key or label the question names (the key is never
//! its own answer).

use super::extractive::kind_of;
use super::labels::{norm_token, PageText};
use super::lexicon::{is_label_phrase, lexicon};
use super::question::Question;
use super::Candidate;
use crate::layout::pairs::{self, PairModel};
use crate::model::{BBox, FormField, FormFieldKind, KeyValue, Target};
use crate::values::find_values;

/// The evidence source of a filled form field's value.
pub const FORM_FIELD: &str = "form-field";

/// How much of a key must match the question's words for its value to be offered.
const MIN_MATCH: f32 = 0.5;

/// How well a key matches the question: shared words over all words of both, stop words left
/// out and numbers kept (1 for "What is the Location?" and "Location:", and for "What is item
/// 417?" and "Item 417"), or 1 when the key is one of the question's label phrases.
pub fn key_match(key: &str, q: &Question) -> f32 {
    let lower = key.to_lowercase();
    let phrase = lower.trim_end_matches([':', '.', ' ']).trim();
    if q.labels.iter().any(|l| l == phrase) {
        return 1.0;
    }
    let (words, asked) = (content_words(phrase), content_words(&q.text));
    if words.is_empty() || asked.is_empty() {
        return 0.0;
    }
    let shared = words.iter().filter(|w| asked.contains(w)).count();
    let all = words.len() + asked.iter().filter(|t| !words.contains(t)).count();
    shared as f32 / all as f32
}

fn content_words(text: &str) -> Vec<String> {
    let stop = &lexicon().questions.stop_words;
    let mut words: Vec<String> =
        text.split_whitespace().map(norm_token).filter(|w| !w.is_empty() && !stop.contains(w)).collect();
    words.dedup();
    words
}

/// The keys the question names on the page, with how well each matches: the layout's
/// key-values, and on a page read from pixels each piece that names the key with its likeliest
/// value by the forms model (the page's pairing is for keys unknown; here the key is asked for).
/// The latter only where no lexicon label covers the question: a receipt's "total" or an
/// invoice's "vendor" has label cues of its own, and "Company Reg No." is no vendor's name.
pub fn named_keys(pt: &PageText, q: &Question) -> Vec<(KeyValue, f32)> {
    let matched = |key: &str| key_match(key, q);
    let mut out: Vec<(KeyValue, f32)> = pt
        .layout
        .into_iter()
        .flat_map(|l| l.key_values())
        .map(|kv| (kv.clone(), matched(&kv.key)))
        .filter(|(_, m)| *m >= MIN_MATCH)
        .collect();
    if pt.page.source.read_from_pixels() && q.labels.is_empty() {
        for (kv, m) in pairs::named_values(pt.page, PairModel::bundled(), &matched, MIN_MATCH) {
            if !out.iter().any(|(o, _)| o.key_bbox == kv.key_bbox && o.value_bbox == kv.value_bbox) {
                out.push((kv, m));
            }
        }
    }
    out
}

/// The values of the keys the question names. A typed question (a date, an amount) takes the
/// value of its kind inside the value's box, in its normal form; others take the value as printed.
pub fn candidates(pt: &PageText, q: &Question, named: &[(KeyValue, f32)]) -> Vec<Candidate> {
    named
        .iter()
        .filter_map(|(kv, matched)| {
            // As likely as the key is the one asked for and the pairing is right.
            let score = matched * kv.confidence.clamp(0.0, 1.0);
            let label = Some(kv.key.clone());
            let inside = |b: &BBox| kv.value_bbox.grow(1.0).contains_point(b.center());
            let Some(kind) = kind_of(q.target) else {
                // Another label is no value ("Number    Date" heading two columns), nor is an
                // identifier without a digit (as the identifiers found beside labels).
                let words: Vec<String> = kv.value.split_whitespace().map(norm_token).collect();
                let no_id = q.target == Target::Identifier && !kv.value.chars().any(|c| c.is_ascii_digit());
                if q.target == Target::Currency || kv.value.trim().is_empty() || is_label_phrase(&words) || no_id {
                    return None;
                }
                // A name is the first line of a block that goes on with an address.
                if q.target == Target::Name {
                    let (first, _) = pt
                        .lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| inside(&l.bbox))
                        .min_by(|a, b| a.1.bbox.y0.total_cmp(&b.1.bbox.y0))?;
                    let n = pt.lines[first].printed.len();
                    return Some(Candidate::new(pt, first, 0, n, String::new(), score, label));
                }
                return Some(Candidate::whole(pt, kv.value.trim().to_string(), vec![kv.value_bbox], score, label));
            };
            // The first value of the kind asked for whose words lie in the value's box.
            pt.lines.iter().enumerate().find_map(|(i, line)| {
                line.values
                    .iter()
                    .filter(|v| v.kind == kind && inside(&pt.span_box(i, v.start, v.end)))
                    .map(|v| {
                        Candidate::new(pt, i, v.start, v.end, v.normalized.clone(), score, label.clone())
                            .with_currency(v.currency)
                    })
                    .next()
            })
        })
        .collect()
}

/// A field name as words: "applicant.dateOfBirth", "form1[0].dateOfBirth[0]" and
/// "date_of_birth" read "date Of Birth" / "date of birth" (matching ignores case).
pub fn name_words(name: &str) -> String {
    // XFA-style names index each part: "page1[0].lastName[0]".
    let plain: String = name
        .split('[')
        .enumerate()
        .map(|(i, s)| if i == 0 { s } else { s.split_once(']').map_or("", |(_, r)| r) })
        .collect();
    let last = plain.rsplit('.').next().unwrap_or(&plain);
    let mut out = String::new();
    let mut prev_lower = false;
    for c in last.chars() {
        if c == '_' || c == '-' || c.is_whitespace() {
            out.push(' ');
        } else {
            // "dateOfBirth", "item417": a word starts at a capital or a digit after a letter.
            if (c.is_uppercase() || c.is_ascii_digit()) && prev_lower {
                out.push(' ');
            }
            out.push(c);
        }
        prev_lower = c.is_lowercase();
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text printed as a widget's label, and its box: the run of words ending just left of it
/// on its row (a grid form's row holds other labels and widgets further left), else the line
/// just above it.
fn printed_label(pt: &PageText, b: &BBox) -> Option<(String, BBox)> {
    let lh = pt.line_height.max(1.0);
    let mut left: Vec<(&str, BBox)> = pt
        .lines
        .iter()
        .filter(|l| l.bbox.v_overlap(b) >= 0.5 * l.bbox.height().min(b.height()).max(1.0))
        .flat_map(|l| l.words.iter().zip(&l.printed).map(|(&w, t)| (t.as_str(), pt.page.words[w as usize].bbox)))
        .filter(|(_, wb)| wb.x1 <= b.x0 + 2.0 && b.x0 - wb.x1 <= 12.0 * lh)
        .collect();
    left.sort_by(|a, c| a.1.x1.total_cmp(&c.1.x1));
    // From the nearest word back to the first gap wider than a line height and a half.
    let mut start = left.len();
    while start > 0 && (start == left.len() || left[start].1.x0 - left[start - 1].1.x1 <= 1.5 * lh) {
        start -= 1;
    }
    if let Some(first) = left.get(start) {
        let run = &left[start..];
        let text = run.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" ");
        return Some((text, run.iter().skip(1).fold(first.1, |acc, (_, wb)| acc.union(wb))));
    }
    pt.lines
        .iter()
        .filter(|l| l.bbox.y1 <= b.y0 + 2.0 && b.y0 - l.bbox.y1 <= 1.5 * lh && l.bbox.h_overlap(b) > 0.0)
        .max_by(|a, c| a.bbox.y1.total_cmp(&c.bbox.y1))
        .map(|l| (l.printed.join(" "), l.bbox))
}

/// A page's fields as one per name: a radio or check box group answers with its chosen button.
fn by_name(fields: &[FormField]) -> Vec<&FormField> {
    let mut out: Vec<&FormField> = Vec::new();
    for f in fields.iter().filter(|f| !f.name.is_empty() && f.kind != FormFieldKind::Signature) {
        match out.iter_mut().find(|o| o.name == f.name) {
            Some(o) if o.kind == f.kind && f.value != "unchecked" && o.value == "unchecked" => *o = f,
            Some(_) => {}
            None => out.push(f),
        }
    }
    out
}

/// The filled form fields the question names by their name or printed label, with their values
/// as stored (in normal form for a typed question; a value not of the kind asked for is left);
/// and the boxes of the labels that named them (never answers themselves).
pub fn field_candidates(pt: &PageText, q: &Question) -> (Vec<Candidate>, Vec<BBox>) {
    let fields = by_name(&pt.page.graphics.fields);
    if fields.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut labels = Vec::new();
    let found = fields
        .into_iter()
        .filter(|f| !f.value.trim().is_empty())
        .filter_map(|f| {
            let label = printed_label(pt, &f.bbox);
            let by_label = label.as_ref().map_or(0.0, |(l, _)| key_match(l, q));
            let matched = key_match(&name_words(&f.name), q).max(by_label);
            if matched < MIN_MATCH {
                return None;
            }
            if let Some((_, b)) = label.as_ref().filter(|_| by_label >= MIN_MATCH) {
                labels.push(*b);
            }
            let name = Some(label.map_or_else(|| name_words(&f.name), |(l, _)| l));
            let mut c = Candidate::whole(pt, f.value.trim().to_string(), vec![f.bbox], matched, name);
            c.source = FORM_FIELD;
            if let Some(kind) = kind_of(q.target) {
                let words: Vec<&str> = f.value.split_whitespace().collect();
                let typed = find_values(&words, pt.locale).into_iter().find(|v| v.kind == kind && v.start == 0)?;
                c.normalized = typed.normalized;
                c.currency = typed.currency;
            } else if q.target == Target::Currency {
                return None;
            }
            Some(c)
        })
        .collect();
    (found, labels)
}

/// Is the candidate the words of a key or label the question names (standing inside one of
/// their boxes, with no word the question does not have)? A value read into the same piece as
/// its key ("TOTAL 9.00") is not.
pub fn is_named_key(boxes: &[BBox], q: &Question, c: &Candidate) -> bool {
    let inside = c.boxes.first().is_some_and(|b| boxes.iter().any(|k| k.grow(1.0).contains_point(b.center())));
    inside && {
        let asked = content_words(&q.text);
        content_words(&c.text).iter().all(|w| asked.contains(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::tests::page_of_rows;
    use crate::model::PageLayout;
    use crate::values::Locale;

    #[test]
    fn a_key_matches_the_question_that_names_it() {
        let q = Question::parse("What is the Location?");
        assert_eq!(key_match("Location:", &q), 1.0);
        assert_eq!(key_match("Name of Account", &Question::parse("What is the Name of Account?")), 1.0);
        assert!(key_match("Location of plant", &q) >= MIN_MATCH);
        assert_eq!(key_match("Division", &q), 0.0);
        let q = Question::parse("What is item 417?");
        assert_eq!(key_match("Item 417", &q), 1.0);
        assert!(key_match("Item 414", &q) < MIN_MATCH);
    }

    #[test]
    fn field_names_read_as_words() {
        assert_eq!(name_words("applicant.dateOfBirth"), "date Of Birth");
        assert_eq!(name_words("date_of_birth"), "date of birth");
        assert_eq!(name_words("item417"), "item 417");
        assert_eq!(name_words("Text3"), "Text 3");
        assert_eq!(name_words("form1[0].page1[0].lastName[0]"), "last Name");
    }

    #[test]
    fn a_question_naming_a_key_gets_its_value_and_never_the_key() {
        let page = page_of_rows(&["Location Monterey", "Division San Jose"]);
        let b = |w: usize| page.words[w].bbox;
        let pair = |k: usize, v: &[usize], key: &str, value: &str| KeyValue {
            key: key.into(),
            value: value.into(),
            key_bbox: b(k),
            value_bbox: v.iter().skip(1).fold(b(v[0]), |acc, &w| acc.union(&b(w))),
            confidence: 0.9,
        };
        let layout = PageLayout {
            page: 1,
            width: page.width,
            height: page.height,
            regions: vec![],
            pairs: vec![pair(0, &[1], "Location", "Monterey"), pair(2, &[3, 4], "Division", "San Jose")],
            error: None,
        };
        let pt = PageText::new(&page, Some(&layout), Locale::default());
        let q = Question::parse("What is the Location?");
        let named = named_keys(&pt, &q);
        let found = candidates(&pt, &q, &named);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].text.as_str(), found[0].label.as_deref()), ("Monterey", Some("Location")));
        assert!((found[0].score - 0.9).abs() < 1e-6);
        let key_itself = Candidate::new(&pt, 0, 0, 1, String::new(), 0.9, None);
        let keys: Vec<BBox> = named.iter().map(|(kv, _)| kv.key_bbox).collect();
        assert!(is_named_key(&keys, &q, &key_itself) && !is_named_key(&keys, &q, &found[0]));
        // A value read into its key's box is no key.
        let wide = [keys[0].union(&b(1))];
        let value = Candidate::new(&pt, 0, 1, 2, String::new(), 0.9, None);
        assert!(!is_named_key(&wide, &q, &value) && is_named_key(&wide, &q, &key_itself));
    }
}
