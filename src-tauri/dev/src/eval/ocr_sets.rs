//! Reading sets: page images read by OCR on import, scored against line transcripts
//! (`ocr_lines.json`: character error rate and word recall) and against the answers of their
//! questions (`qa.json`: is each answer's text or number on the page as read?).
//!
//! Comparisons ignore case (SROIE's transcripts are upper case whatever the receipt prints);
//! the error rate with case kept is reported beside it.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use pagewise_engine::read::straighten::{photo_point, straightened_size};
use pagewise_engine::{BBox, DocId, Library, Page, PageSource, Result, Word};
use serde_json::{json, Value};

use super::metrics::edit_distance;
use super::sets::{import, read_json, set_name, Report};

/// A transcript line: its box in the image's pixels and its text.
struct TruthLine {
    bbox: [f32; 4],
    text: String,
}

impl TruthLine {
    /// A region the annotators masked rather than transcribed ("###" in ICDAR sets, "***" in
    /// SROIE, where it hides Chinese lines): as in ICDAR's scoring, what is read there is
    /// neither right nor wrong, and its characters are not counted.
    fn masked(&self) -> bool {
        self.text.chars().count() >= 3 && self.text.chars().all(|c| c == '#' || c == '*')
    }
}

/// A page as read, in the image's pixels (the reader's boxes are in page points).
pub struct ReadPage {
    pub id: DocId,
    pub page: Page,
    pub pixels_per_point: f32,
}

/// An image page as read; a page straightened from a photo has its words put back where they
/// lie in the photo (the annotations' frame), in its pixels.
pub fn read_image_page(lib: &mut Library, path: &Path) -> Result<ReadPage> {
    let id = import(lib, path)?;
    let page = lib.page(&id, 1)?;
    if let Some(in_photo) = photo_box(&page) {
        let words = page.words.iter().map(|w| Word { bbox: in_photo(w.bbox), ..w.clone() }).collect();
        return Ok(ReadPage { id, page: Page { words, ..page }, pixels_per_point: 1.0 });
    }
    let width_px = image::image_dimensions(path).map(|(w, h)| if page.turned % 180 == 90 { h } else { w }).unwrap_or(1);
    let pixels_per_point = width_px as f32 / page.width.max(1e-3);
    Ok(ReadPage { id, page, pixels_per_point })
}

/// For a page straightened from a photo: where a box of it (page points) lies in the photo
/// (pixels; the box around its four corners mapped).
pub fn photo_box(page: &Page) -> Option<impl Fn(BBox) -> BBox> {
    let corners = page.photo_corners?;
    let s = straightened_size(&corners).0 as f32 / page.width.max(1e-3);
    Some(move |b: BBox| {
        let seen = [(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)]
            .map(|(x, y)| photo_point(&corners, (x * s, y * s)));
        let (xs, ys) = (seen.map(|p| p.0), seen.map(|p| p.1));
        let least = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min);
        let most = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max);
        BBox::new(least(xs), least(ys), most(xs), most(ys))
    })
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn transcripts(lib: &mut Library, dir: &Path) -> Result<Report> {
    let gt = read_json(&dir.join("ocr_lines.json"))?;
    let files = gt.as_object().cloned().unwrap_or_default();
    let (mut edits, mut case_edits, mut chars, mut words, mut found, mut unread) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut masked = 0;
    let mut rows = Vec::new();
    let mut wrong_lines = Vec::new();
    for (file, lines) in &files {
        let truth: Vec<TruthLine> = lines
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let q: Vec<f32> = l["quad"].as_array()?.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect();
                let (xs, ys) = (q.iter().step_by(2), q.iter().skip(1).step_by(2));
                let bbox = [
                    xs.clone().cloned().fold(f32::MAX, f32::min),
                    ys.clone().cloned().fold(f32::MAX, f32::min),
                    xs.cloned().fold(f32::MIN, f32::max),
                    ys.cloned().fold(f32::MIN, f32::max),
                ];
                Some(TruthLine { bbox, text: squash(l["text"].as_str()?) })
            })
            .collect();
        let read = read_image_page(lib, &dir.join("images").join(file))?;
        if read.page.source != PageSource::Ocr {
            unread += 1;
            eprintln!(
                "{file}: not read by OCR ({})",
                read.page.error.as_ref().map_or("no reason given", |e| e.message.as_str())
            );
        }
        let s = score_page(&truth, &read);
        masked += truth.iter().filter(|t| t.masked()).count();
        let page_chars: usize = truth.iter().filter(|t| !t.masked()).map(|t| t.text.chars().count()).sum();
        rows.push((file.clone(), s.edits as f64 / page_chars.max(1) as f64, s.found as f64 / s.words.max(1) as f64));
        wrong_lines.extend(s.wrong_lines.iter().map(|(n, want, got)| (*n, file.clone(), want.clone(), got.clone())));
        (edits, case_edits, chars, words, found) =
            (edits + s.edits, case_edits + s.case_edits, chars + page_chars, words + s.words, found + s.found);
    }
    let cer = edits as f64 / chars.max(1) as f64;
    let recall = found as f64 / words.max(1) as f64;
    let mut table = format!("{} — {} images read by OCR, against line transcripts\n", set_name(dir), files.len());
    let _ = writeln!(table, "  {:<12} {:>7} {:>12}", "image", "CER", "word recall");
    for (file, c, r) in &rows {
        let _ = writeln!(table, "  {file:<12} {:>6.1}% {:>11.1}%", c * 100.0, r * 100.0);
    }
    let case_cer = case_edits as f64 / chars.max(1) as f64;
    let _ = writeln!(
        table,
        "  all: CER {:.2}% ({edits} edits / {chars} characters), word recall {:.1}% ({found}/{words})",
        cer * 100.0,
        recall * 100.0
    );
    let _ = writeln!(
        table,
        "  (CER with case kept: {:.2}%; {masked} masked lines, such as \"***\", not scored)",
        case_cer * 100.0
    );
    // The lines that cost most, so a change to the reader can be judged line by line.
    wrong_lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    for (n, file, want, got) in wrong_lines.iter().take(15) {
        let _ = writeln!(table, "    {n:>3} edits  {file}: expected {want:?}, read {got:?}");
    }
    if unread > 0 {
        let _ = writeln!(table, "  {unread} images were not read (see above)");
    }
    let per_image: Vec<_> = rows.iter().map(|(f, c, r)| json!({"file": f, "cer": c, "word_recall": r})).collect();
    let wrong: Vec<_> = wrong_lines
        .iter()
        .map(|(n, f, want, got)| json!({"file": f, "edits": n, "expected": want, "read": got}))
        .collect();
    let json = json!({
        "set": set_name(dir), "kind": "ocr-transcripts", "images": files.len(),
        "cer": cer, "cer_case_kept": case_cer, "word_recall": recall,
        "edits": edits, "characters": chars, "masked_lines": masked,
        "words": words, "words_found": found, "unread": unread,
        "per_image": per_image,
        "wrong_lines": wrong,
    });
    Ok(Report { table, json })
}

struct PageScore {
    edits: usize,
    case_edits: usize,
    words: usize,
    found: usize,
    /// Transcript lines read with errors: (edits, transcript, as read).
    wrong_lines: Vec<(usize, String, String)>,
}

/// Each word read goes to the transcript line its box overlaps most (none: an insertion); a
/// line's words, left to right, are compared with its transcript. Word recall counts the
/// transcript's words found among the page's words read (each used once).
fn score_page(truth: &[TruthLine], read: &ReadPage) -> PageScore {
    let s = read.pixels_per_point;
    let mut assigned: Vec<Vec<(f32, &str)>> = vec![Vec::new(); truth.len()];
    let mut extra = Vec::new();
    for w in &read.page.words {
        let b = [w.bbox.x0 * s, w.bbox.y0 * s, w.bbox.x1 * s, w.bbox.y1 * s];
        let best = truth
            .iter()
            .enumerate()
            .map(|(i, t)| (i, overlap(&b, &t.bbox)))
            .filter(|(_, o)| *o > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, _)) => assigned[i].push((b[0], w.text.as_str())),
            None => extra.push(w.text.as_str()),
        }
    }
    // Words outside every transcript line count as inserted characters.
    let inserted: usize = extra.iter().map(|w| w.chars().count()).sum();
    let (mut edits, mut case_edits) = (inserted, inserted);
    let mut wrong_lines = Vec::new();
    if inserted > 0 {
        wrong_lines.push((inserted, String::new(), extra.join(" ")));
    }
    for (t, mut got) in truth.iter().zip(assigned).filter(|(t, _)| !t.masked()) {
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let text = got.iter().map(|g| g.1).collect::<Vec<_>>().join(" ");
        let line_edits = edit_distance(&text.to_lowercase(), &t.text.to_lowercase());
        edits += line_edits;
        case_edits += edit_distance(&text, &t.text);
        if line_edits > 0 {
            wrong_lines.push((line_edits, t.text.clone(), text));
        }
    }
    let mut bag: HashMap<String, usize> = HashMap::new();
    for w in &read.page.words {
        *bag.entry(w.text.to_lowercase()).or_default() += 1;
    }
    let (mut words, mut found) = (0, 0);
    for word in truth.iter().filter(|t| !t.masked()).flat_map(|t| t.text.split_whitespace()) {
        words += 1;
        if let Some(n) = bag.get_mut(&word.to_lowercase()).filter(|n| **n > 0) {
            *n -= 1;
            found += 1;
        }
    }
    PageScore { edits, case_edits, words, found, wrong_lines }
}

/// Intersection area of two boxes.
fn overlap(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    ((a[2].min(b[2]) - a[0].max(b[0])).max(0.0)) * ((a[3].min(b[3]) - a[1].max(b[1])).max(0.0))
}

/// The answers' texts of a page's questions: strings, numbers, or the value of an answer object.
fn answer_texts(answer: &Value) -> Option<String> {
    match answer {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => ["value", "answer", "main_question"].iter().find_map(|k| o.get(*k)).and_then(answer_texts),
        _ => None,
    }
}

/// A number as written on a page: "$1,234.5", "(12)" or "25098.0" -> its value.
fn number_of(s: &str) -> Option<f64> {
    let t: String = s.chars().filter(|c| !matches!(c, '$' | '€' | '£' | ',' | '(' | ')' | '%')).collect();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub fn answers(lib: &mut Library, dir: &Path) -> Result<Report> {
    let qa = read_json(&dir.join("qa.json"))?;
    let mut by_file: HashMap<String, Vec<String>> = HashMap::new();
    for q in qa.as_array().into_iter().flatten() {
        let Some(file) = q["file"].as_str() else { continue };
        let texts = by_file.entry(file.to_string()).or_default();
        for a in q["answers"].as_array().into_iter().flatten().filter_map(answer_texts) {
            if !texts.contains(&a) {
                texts.push(a);
            }
        }
    }
    let mut files: Vec<_> = by_file.into_iter().collect();
    files.sort();
    let (mut total, mut found) = (0, 0);
    let mut missing = Vec::new();
    for (file, wanted) in &files {
        let read = read_image_page(lib, &dir.join("images").join(file))?;
        let text = squash(&read.page.text).to_lowercase();
        let numbers: Vec<f64> = read.page.words.iter().filter_map(|w| number_of(&w.text)).collect();
        for a in wanted {
            total += 1;
            let on_page = text.contains(&squash(a).to_lowercase())
                || number_of(a).is_some_and(|v| numbers.iter().any(|n| (n - v).abs() < 1e-6));
            if on_page {
                found += 1;
            } else {
                missing.push(format!("{file}: {a}"));
            }
        }
    }
    let recall = found as f64 / total.max(1) as f64;
    let mut table =
        format!("{} — {} images read by OCR, against their questions' answers\n", set_name(dir), files.len());
    let _ = writeln!(table, "  answers found on the page as read: {found}/{total} ({:.1}%)", recall * 100.0);
    for m in missing.iter().take(10) {
        let _ = writeln!(table, "    missing  {m}");
    }
    let json = json!({
        "set": set_name(dir), "kind": "ocr-answers", "images": files.len(),
        "answers": total, "found": found, "recall": recall, "missing": missing,
    });
    Ok(Report { table, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(words: &[(&str, [f32; 4])]) -> ReadPage {
        let words = words
            .iter()
            .map(|(t, b)| pagewise_engine::Word {
                text: t.to_string(),
                bbox: pagewise_engine::BBox { x0: b[0], y0: b[1], x1: b[2], y1: b[3] },
                size: 0.0,
                bold: false,
            })
            .collect();
        let page = Page {
            page: 1,
            width: 100.0,
            height: 100.0,
            rotation: 0,
            turned: 0,
            photo_corners: None,
            source: PageSource::Ocr,
            text: String::new(),
            words,
            lines: Vec::new(),
            graphics: Default::default(),
            error: None,
        };
        ReadPage { id: DocId("test".into()), page, pixels_per_point: 1.0 }
    }

    #[test]
    fn lines_are_scored_by_the_words_read_over_them_and_masked_lines_not_at_all() {
        let line = |text: &str, y: f32| TruthLine { bbox: [0.0, y, 100.0, y + 10.0], text: text.into() };
        let truth = [line("TOTAL : 9.00", 0.0), line("***", 20.0), line("THANK YOU", 40.0)];
        let read = page_of(&[
            ("9.00", [60.0, 1.0, 90.0, 9.0]),
            ("Total", [0.0, 1.0, 30.0, 9.0]),
            ("谢谢光临", [0.0, 21.0, 50.0, 29.0]),
            ("THANK", [0.0, 41.0, 40.0, 49.0]),
            ("x", [0.0, 70.0, 5.0, 75.0]),
        ]);
        let s = score_page(&truth, &read);
        // " :" missing from the first line, "YOU" from the last, one inserted "x"; the masked
        // line's Chinese words cost nothing.
        assert_eq!(s.edits, 2 + 4 + 1, "{:?}", s.wrong_lines);
        assert_eq!((s.words, s.found), (5, 3));
        assert!(truth[1].masked() && !truth[0].masked() && !line("*S", 0.0).masked());
    }

    #[test]
    fn numbers_read_as_printed() {
        assert_eq!(number_of("$25,098"), Some(25098.0));
        assert_eq!(number_of("(1,234.5)"), Some(1234.5));
        assert_eq!(number_of("25098.0"), Some(25098.0));
        assert_eq!(number_of("Revenue"), None);
    }

    #[test]
    fn answers_come_from_strings_and_objects() {
        assert_eq!(answer_texts(&json!("9.00")).as_deref(), Some("9.00"));
        assert_eq!(answer_texts(&json!({"main_question": "25098.0", "unit": "millions"})).as_deref(), Some("25098.0"));
        assert_eq!(answer_texts(&json!(null)), None);
    }
}
