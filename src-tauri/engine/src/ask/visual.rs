//! Questions answered by a vision-language model (Qwen3-VL) looking at the page, kept honest:
//! the prompt carries the page's words and where they stand (as LAPDoc and LayoutLLM do), the
//! answer is grounded back on the page's words (or on the box the model gives), and every word
//! of it that appears nowhere on the page is flagged. An answer whose evidence cannot be located
//! has low confidence and says so; a repetition loop is cut and noted.

use image::RgbImage;
use regex::Regex;

use super::labels::PageText;
use super::{Answerer, Candidate, Extractive, Question, FOUND};
use crate::embed::Meaning;
use crate::model::{Answer, BBox, Guess, ModelChecks};
use crate::values::loose;
use crate::vlm::{Stop, Vlm};
use crate::Result;

/// Largest page image given to the model on a CPU (pixels): about 1,000 image tokens.
pub const DEFAULT_MAX_PIXELS: usize = 1024 * 980;
/// At most this many characters of the page's words go into the prompt.
const MAX_WORDS_CHARS: usize = 6000;

/// The manifest name of the visual question-answering model.
pub const MODEL: &str = "qwen3-vl-2b-instruct";

/// A PDF page is drawn this many pixels on its longer side for the model.
pub const PAGE_PIXELS: f32 = 1600.0;

pub struct Visual<'a> {
    vlm: &'a mut Vlm,
    /// Picks the page to look at when the question is about the whole document.
    picker: Extractive,
    /// The page's pixels, upright.
    render: Box<dyn FnMut(u32) -> Result<RgbImage> + 'a>,
    on_text: Box<dyn FnMut(&str) + 'a>,
    pub max_pixels: usize,
    pub max_tokens: usize,
}

impl<'a> Visual<'a> {
    /// `meaning` serves the extractive answerer that picks the page to look at.
    pub fn new(
        vlm: &'a mut Vlm,
        meaning: Meaning,
        render: impl FnMut(u32) -> Result<RgbImage> + 'a,
        on_text: impl FnMut(&str) + 'a,
    ) -> Visual<'a> {
        Visual {
            vlm,
            picker: Extractive::new(meaning),
            render: Box::new(render),
            on_text: Box::new(on_text),
            max_pixels: DEFAULT_MAX_PIXELS,
            max_tokens: 64,
        }
    }

    /// The page to look at: the one page given, else the page where the extractive answerer's
    /// best candidate stands (a model looks at one page at a time), else the first.
    fn pick_page<'p>(&mut self, pages: &'p [PageText<'p>], q: &Question) -> Option<&'p PageText<'p>> {
        if pages.len() <= 1 {
            return pages.first();
        }
        let best = self.picker.answer(pages, q).guesses.first().and_then(|g| g.evidence.first()).map(|e| e.page);
        best.and_then(|p| pages.iter().find(|pt| pt.page.page == p)).or(pages.first())
    }

    fn failed(q: &Question, reason: String) -> Answer {
        Answer {
            question: q.text.clone(),
            target: q.target,
            found: false,
            answer: None,
            normalized: None,
            currency: None,
            unit: None,
            confidence: 0.0,
            evidence: vec![],
            guesses: vec![],
            reason: Some(reason),
            checks: None,
        }
    }
}

/// The prompt: the page's lines with boxes on a 0–1000 scale, then the question.
pub fn layout_prompt(pt: &PageText, question: &str) -> String {
    let (w, h) = (pt.page.width.max(1.0), pt.page.height.max(1.0));
    let mut words = String::new();
    for line in &pt.lines {
        let b = line.bbox;
        let entry = format!(
            "[{}, {}, {}, {}] {}\n",
            (b.x0 / w * 1000.0) as i32,
            (b.y0 / h * 1000.0) as i32,
            (b.x1 / w * 1000.0) as i32,
            (b.y1 / h * 1000.0) as i32,
            line.printed.join(" ")
        );
        if words.len() + entry.len() > MAX_WORDS_CHARS {
            words.push_str("[…]\n");
            break;
        }
        words.push_str(&entry);
    }
    let words = if words.is_empty() { "(no words were read from this page)\n".to_string() } else { words };
    format!(
        "The page's words as read from it, one line each, with the line's box as [x0, y0, x1, y1] \
         on a 0-1000 scale:\n{words}\n\
         Question: {question}\nAnswer with the exact words from the page, as briefly as possible. \
         If the page does not answer it, say: not on the page."
    )
}

/// A box the model gave (`"bbox_2d": [x0, y0, x1, y1]`, 0–1000), in page points.
fn model_box(text: &str, width: f32, height: f32) -> Option<BBox> {
    let re = Regex::new(concat!(
        r#"bbox_2d"?\s*:\s*\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)"#,
        r#"\s*,\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]"#
    ))
    .expect("valid regex");
    let c = re.captures(text)?;
    let v: Vec<f32> = (1..=4).map(|i| c[i].parse::<f32>().unwrap_or(0.0) / 1000.0).collect();
    let b = BBox::new(v[0] * width, v[1] * height, v[2] * width, v[3] * height);
    (b.x1 > b.x0 && b.y1 > b.y0).then_some(b)
}

/// A word as the checks see it: its letters and digits, lowercase ("1,234.56" -> "123456").
fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn answer_tokens(answer: &str) -> Vec<String> {
    answer.split_whitespace().map(key).filter(|t| !t.is_empty()).collect()
}

/// Grounds `answer` on the page: the shortest run of words (in reading order) that holds the
/// most of the answer's tokens in order. Returns the run and the share of tokens it holds.
pub fn ground(pt: &PageText, answer: &str) -> Option<(Vec<(usize, usize)>, f32)> {
    let wanted = answer_tokens(answer);
    if wanted.is_empty() {
        return None;
    }
    let words: Vec<((usize, usize), String)> = pt
        .lines
        .iter()
        .enumerate()
        .flat_map(|(l, line)| line.printed.iter().enumerate().map(move |(w, t)| ((l, w), key(t))))
        .collect();
    let mut best: Option<(usize, usize, usize)> = None; // (matched, start, end)
    for start in 0..words.len() {
        if !wanted.iter().any(|t| *t == words[start].1 || words[start].1.contains(t.as_str())) {
            continue;
        }
        let (mut matched, mut next, mut end) = (0, 0, start);
        let mut i = start;
        // Follow the answer's tokens in order, allowing a few unmatched words between them.
        while i < words.len() && next < wanted.len() && i <= end + 3 {
            let word = &words[i].1;
            let mut advanced = false;
            while next < wanted.len()
                && !word.is_empty()
                && (word == &wanted[next] || word.contains(wanted[next].as_str()))
            {
                matched += 1;
                next += 1;
                advanced = true;
                if word == &wanted[next - 1] {
                    break;
                }
            }
            if advanced {
                end = i;
            }
            i += 1;
        }
        let better = match best {
            None => matched > 0,
            Some((m, s, e)) => matched > m || (matched == m && end - start < e - s),
        };
        if better {
            best = Some((matched, start, end));
        }
    }
    let (matched, start, end) = best?;
    Some(((start..=end).map(|i| words[i].0).collect(), matched as f32 / wanted.len() as f32))
}

/// Answer tokens that appear nowhere on the page.
pub fn not_on_page(pt: &PageText, answer: &str) -> Vec<String> {
    let page: String = pt.lines.iter().flat_map(|l| l.printed.iter()).map(|t| key(t)).collect::<Vec<_>>().join(" ");
    answer_tokens(answer).into_iter().filter(|t| !page.contains(t.as_str())).collect()
}

fn says_not_on_page(answer: &str) -> bool {
    let a = loose(answer);
    a.is_empty() || a.contains("not on the page") || a == "none" || a == "n a" || a.contains("does not answer")
}

impl Answerer for Visual<'_> {
    fn name(&self) -> &str {
        self.vlm.name()
    }

    fn answer(&mut self, pages: &[PageText], q: &Question) -> Answer {
        let Some(pt) = self.pick_page(pages, q) else { return Self::failed(q, "the document has no pages".into()) };
        let image = match (self.render)(pt.page.page) {
            Ok(image) => image,
            Err(e) => return Self::failed(q, format!("page {} could not be drawn for the model: {e}", pt.page.page)),
        };
        let image = fit_pixels(image, self.max_pixels);
        let on_text = &mut self.on_text;
        let generation =
            match self.vlm.generate(Some(&image), &layout_prompt(pt, &q.text), self.max_tokens, &mut |piece| {
                on_text(piece);
                true
            }) {
                Ok(g) => g,
                Err(e) => return Self::failed(q, format!("the model failed on page {}: {e}", pt.page.page)),
            };
        let text = generation.text.trim().to_string();
        let flagged = not_on_page(pt, &text);
        let boxed = model_box(&text, pt.page.width, pt.page.height);
        let grounded = ground(pt, &text);
        let (candidate, grounded_by) = match (&grounded, boxed) {
            (_, Some(b)) => (Some(Candidate { boxes: vec![b], ..Candidate::words(pt, &[], 0.0, None) }), "model box"),
            (Some((span, _)), None) => (Some(Candidate::words(pt, span, 0.0, None)), "page words"),
            (None, None) => (None, "none"),
        };
        let share = grounded.as_ref().map_or(0.0, |(_, s)| *s);
        let mut confidence = 0.9 * share;
        let mut reason = None;
        if generation.stop == Stop::Loop {
            confidence *= 0.5;
        }
        if says_not_on_page(&text) {
            confidence = 0.0;
            reason = Some("the model says the page does not answer it".to_string());
        } else if !flagged.is_empty() {
            confidence = confidence.min(0.25);
            reason = Some(format!("the model's answer has words that are nowhere on the page: {}", flagged.join(", ")));
        } else if candidate.is_none() {
            confidence = confidence.min(0.2);
            reason = Some("the answer's evidence could not be located on the page".into());
        }
        let confidence = (confidence * 1000.0).round() / 1000.0;
        let evidence: Vec<_> = candidate
            .map(|c| {
                let mut guess =
                    Candidate { text: text.clone(), normalized: text.clone(), score: confidence, ..c }.guess();
                guess.evidence.iter_mut().for_each(|e| e.source = "vlm".into());
                guess.evidence
            })
            .unwrap_or_default();
        let found = confidence >= FOUND && !evidence.is_empty();
        let checks = ModelChecks {
            model: self.vlm.name().to_string(),
            not_on_page: flagged,
            loop_cut: generation.stop == Stop::Loop,
            grounded_by: grounded_by.into(),
            tokens: generation.tokens.len(),
            prefill_ms: generation.prefill_ms.round(),
            decode_ms: generation.decode_ms.round(),
        };
        Answer {
            question: q.text.clone(),
            target: q.target,
            found,
            answer: (!text.is_empty()).then(|| text.clone()),
            normalized: found.then(|| text.clone()),
            currency: None,
            unit: None,
            confidence,
            guesses: vec![Guess {
                answer: text.clone(),
                normalized: text.clone(),
                confidence,
                evidence: evidence.clone(),
                label: None,
            }],
            evidence,
            reason: if found {
                None
            } else {
                reason.or_else(|| Some("the model's answer is not supported well enough by the page".into()))
            },
            checks: Some(checks),
        }
    }

    fn answer_all(&mut self, pages: &[PageText], q: &Question, min: f32) -> Vec<Guess> {
        self.answer(pages, q).guesses.into_iter().filter(|g| g.confidence >= min).collect()
    }
}

/// Shrinks a page image (keeping its aspect) to at most `max_pixels`; the model's processor
/// then fits it to its patch grid.
fn fit_pixels(image: RgbImage, max_pixels: usize) -> RgbImage {
    let pixels = image.width() as usize * image.height() as usize;
    if pixels <= max_pixels {
        return image;
    }
    let scale = (max_pixels as f64 / pixels as f64).sqrt();
    let (w, h) = (((image.width() as f64 * scale) as u32).max(1), ((image.height() as f64 * scale) as u32).max(1));
    image::imageops::resize(&image, w, h, image::imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Page;
    use crate::values::Locale;

    fn page() -> Page {
        crate::ask::tests::page_of_rows(&["INVOICE No. 2024-117", "Total amount due: 1,234.56 EUR", "Thank you"])
    }

    #[test]
    fn an_answer_is_grounded_on_the_words_that_say_it() {
        let page = page();
        let pt = PageText::new(&page, None, Locale::default());
        let (span, share) = ground(&pt, "1,234.56 EUR").unwrap();
        assert_eq!(share, 1.0);
        assert_eq!(span, vec![(1, 3), (1, 4)]);
        let (_, share) = ground(&pt, "1,234.56 USD").unwrap();
        assert_eq!(share, 0.5);
        assert_eq!(not_on_page(&pt, "1,234.56 USD"), vec!["usd"]);
        assert!(not_on_page(&pt, "Invoice no. 2024-117").is_empty());
        assert!(ground(&pt, "—").is_none());
    }

    #[test]
    fn the_prompt_carries_the_words_and_where_they_stand() {
        let page = page();
        let pt = PageText::new(&page, None, Locale::default());
        let prompt = layout_prompt(&pt, "What is the total?");
        assert!(prompt.contains("[83, 150, 733, 165] Total amount due: 1,234.56 EUR"), "{prompt}");
        assert!(prompt.ends_with("say: not on the page.") && prompt.contains("Question: What is the total?"));
    }

    #[test]
    fn a_box_from_the_model_is_read_in_page_points() {
        let b = model_box(r#"[{"bbox_2d": [100, 250, 500, 300], "label": "total"}]"#, 600.0, 800.0).unwrap();
        let b = b.rounded();
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (60.0, 200.0, 300.0, 240.0));
        assert!(model_box("no box here", 600.0, 800.0).is_none());
        assert!(says_not_on_page("Not on the page.") && !says_not_on_page("1,234.56"));
    }
}
