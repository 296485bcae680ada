//! A page read by PaddleOCR-VL region by region: the layout detector finds the regions and their
//! reading order, each region's pixels go to the model with the task its label calls for (text,
//! table, formula; chart for a picture whose words look like an axis), and what the model writes
//! comes back as words with boxes in page points.
//!
//! Kept honest: each word the model writes is aligned, in order, with the words the page's text
//! layer or the fast scan reader found in that region. An aligned word takes that word's box
//! (`confirmed`); any other word gets a box estimated from its place in the region's lines, and
//! when its letters appear nowhere on the page it is listed in `not_on_page`. Repetition loops
//! are cut by the decoder and noted per region.

use std::sync::atomic::{AtomicBool, Ordering};

use image::RgbImage;
use serde::Serialize;

use super::edit_distance;
use crate::model::{BBox, Cell, Label, Page, PageLayout, PageSource, Reading, Word};
use crate::vlm::paddleocr_vl::{PaddleOcrVl, Task};
use crate::vlm::{Generation, Stop};
use crate::Result;

/// Tokens a region may take (a dense table fills about this many).
pub const MAX_REGION_TOKENS: usize = 1024;
/// Pixels added around a region's box so that glyphs cut by the detector's edge stay whole.
const PAD: u32 = 4;

/// One region as the model read it.
#[derive(Debug, Clone, Serialize)]
pub struct RegionReading {
    pub label: Label,
    /// None when the region is not read (a picture).
    pub task: Option<Task>,
    pub bbox: BBox,
    /// The model's output as written (plain text, OTSL table tokens, LaTeX).
    pub raw: String,
    /// The region's text: for a table its cells row by row, tab-separated.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<Cell>>,
    /// Indices into the reading's words.
    pub words: Vec<u32>,
    /// Words whose letters appear nowhere in the page's other reading.
    pub not_on_page: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub tokens: usize,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct VlmReading {
    pub words: Vec<Word>,
    /// Per word: aligned with a word of the page's other reading (its box is that word's).
    pub confirmed: Vec<bool>,
    pub regions: Vec<RegionReading>,
    /// What the words were checked against: "text-layer", "ocr" or "nothing".
    pub checked_against: String,
}

impl VlmReading {
    /// The words as every reader returns them, on `page` (the page they were read from: its
    /// size, rotation and turn).
    pub fn reading_on(&self, page: &Page) -> Reading {
        Reading {
            source: PageSource::Vlm,
            width: page.width,
            height: page.height,
            rotation: page.rotation,
            turned: page.turned,
            photo_corners: page.photo_corners,
            words: self.words.clone(),
            graphics: page.graphics.clone(),
            ..Default::default()
        }
    }
}

/// The task a layout region calls for, given the words the page's other reading found in it. A
/// picture is read only when it holds words: as a chart when they look like a chart's axis,
/// as text otherwise (a scanned receipt the detector takes for a photo, text in a figure).
pub fn task_for(label: Label, words: &[&Word]) -> Option<Task> {
    match label {
        Label::Table => Some(Task::Table),
        Label::Formula => Some(Task::Formula),
        Label::Picture if words.is_empty() => None,
        Label::Picture if looks_like_chart(words) => Some(Task::Chart),
        _ => Some(Task::Text),
    }
}

/// At least three numbers (ticks, values, years) lined up in a column, as on a value axis, or
/// in a row, as on a category axis, and no more than a few words of running text around them.
fn looks_like_chart(words: &[&Word]) -> bool {
    let number = |w: &&&Word| {
        let t: String =
            w.text.chars().filter(|c| !matches!(c, ',' | '%' | '$' | '€' | '£' | '+' | '(' | ')')).collect();
        !t.is_empty() && t.parse::<f64>().is_ok()
    };
    let numbers: Vec<&&Word> = words.iter().filter(number).collect();
    if numbers.len() < 3 || words.len() > 4 * numbers.len() + 12 {
        return false;
    }
    let lined_up = |centre: fn(&BBox) -> f32, tolerance: f32| {
        numbers.iter().any(|a| {
            numbers
                .iter()
                .filter(|b| (centre(&a.bbox) - centre(&b.bbox)).abs() <= tolerance * a.bbox.height().max(1.0))
                .count()
                >= 3
        })
    };
    lined_up(|b| (b.x0 + b.x1) / 2.0, 1.0) || lined_up(|b| (b.y0 + b.y1) / 2.0, 0.5)
}

/// A chart's data as PaddleOCR-VL writes it (rows of cells separated by `|`, the first row the
/// header), laid over `area` as an even grid. None when no line holds a separator.
pub fn chart_cells(text: &str, area: BBox) -> Option<Vec<Cell>> {
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.contains('|') && !l.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let n_cols = rows.iter().map(Vec::len).max()?;
    let (cw, rh) = (area.width() / n_cols as f32, area.height() / rows.len() as f32);
    let cell = |(r, c, text): (usize, usize, &str)| Cell {
        row: r as u32,
        col: c as u32,
        row_span: 1,
        col_span: 1,
        bbox: BBox::new(
            area.x0 + c as f32 * cw,
            area.y0 + r as f32 * rh,
            area.x0 + (c + 1) as f32 * cw,
            area.y0 + (r + 1) as f32 * rh,
        ),
        text: text.to_string(),
    };
    Some(
        rows.iter()
            .enumerate()
            .flat_map(|(r, row)| row.iter().enumerate().map(move |(c, t)| (r, c, *t)))
            .map(cell)
            .collect(),
    )
}

/// A word as the checks compare it: letters and digits, lowercase.
fn key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn similar(a: &str, b: &str) -> bool {
    a == b || (a.chars().count() >= 4 && edit_distance(a, b) * 4 <= a.chars().count().max(b.chars().count()))
}

/// Cells of an OTSL table (`<fcel>` a cell with text, `<ecel>` an empty one, `<lcel>`/`<ucel>`/
/// `<xcel>` the cell to the left/above/both spanning into this one, `<nl>` a row's end), laid
/// over `area` as an even grid. None when the text is not OTSL.
pub fn otsl_cells(text: &str, area: BBox) -> Option<Vec<Cell>> {
    let tags = ["<fcel>", "<ecel>", "<lcel>", "<ucel>", "<xcel>", "<nl>"];
    if !text.contains("<fcel>") && !text.contains("<ecel>") {
        return None;
    }
    // Rows of (tag, text).
    let mut rows: Vec<Vec<(&str, String)>> = vec![vec![]];
    let mut rest = text;
    while let Some((at, tag)) = tags.iter().filter_map(|t| rest.find(t).map(|i| (i, *t))).min_by_key(|(i, _)| *i) {
        if let Some(last) = rows.last_mut().and_then(|r| r.last_mut()) {
            last.1.push_str(rest[..at].trim());
        }
        rest = &rest[at + tag.len()..];
        if tag == "<nl>" {
            rows.push(vec![]);
        } else {
            rows.last_mut().expect("a row").push((tag, String::new()));
        }
    }
    if let Some(last) = rows.last_mut().and_then(|r| r.last_mut()) {
        last.1.push_str(rest.trim());
    }
    rows.retain(|r| !r.is_empty());
    let n_rows = rows.len();
    let n_cols = rows.iter().map(Vec::len).max()?;
    let tag_at = |r: usize, c: usize| rows.get(r).and_then(|row| row.get(c)).map(|t| t.0);
    let (cw, rh) = (area.width() / n_cols as f32, area.height() / n_rows as f32);
    let mut cells = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        for (c, (tag, text)) in row.iter().enumerate() {
            if *tag != "<fcel>" && *tag != "<ecel>" {
                continue;
            }
            let col_span = 1 + (c + 1..n_cols).take_while(|&k| tag_at(r, k) == Some("<lcel>")).count();
            let row_span = 1 + (r + 1..n_rows).take_while(|&k| tag_at(k, c) == Some("<ucel>")).count();
            let bbox = BBox::new(
                area.x0 + c as f32 * cw,
                area.y0 + r as f32 * rh,
                area.x0 + (c + col_span) as f32 * cw,
                area.y0 + (r + row_span) as f32 * rh,
            );
            cells.push(Cell {
                row: r as u32,
                col: c as u32,
                row_span: row_span as u32,
                col_span: col_span as u32,
                bbox,
                text: text.clone(),
            });
        }
    }
    Some(cells)
}

/// Places the words of `lines` (in `area`) on the page: aligned in order with `reference`
/// (the other reading's words in this area, in reading order) where they match, estimated from
/// their place in the lines elsewhere. Returns (word, confirmed) pairs.
fn place_words(lines: &[(BBox, &str)], reference: &[&Word]) -> Vec<(Word, bool)> {
    const LOOK_AHEAD: usize = 30;
    let mut next = 0;
    let mut placed = Vec::new();
    for (band, line) in lines {
        let chars = line.chars().count().max(1) as f32;
        let mut offset = 0usize;
        for piece in line.split(' ') {
            let len = piece.chars().count();
            let start = offset;
            offset += len + 1;
            if piece.is_empty() {
                continue;
            }
            let k = key(piece);
            let found = (!k.is_empty())
                .then(|| {
                    (next..reference.len().min(next + LOOK_AHEAD)).find(|&j| similar(&k, &key(&reference[j].text)))
                })
                .flatten();
            let (bbox, confirmed) = match found {
                Some(j) => {
                    next = j + 1;
                    (reference[j].bbox, true)
                }
                None => {
                    let x0 = band.x0 + band.width() * start as f32 / chars;
                    (BBox::new(x0, band.y0, x0 + band.width() * len as f32 / chars, band.y1), false)
                }
            };
            placed.push((Word { text: piece.to_string(), bbox, size: band.height() * 0.8, bold: false }, confirmed));
        }
    }
    placed
}

/// The model's text for a region as lines, each given an even horizontal band of `area`.
fn text_lines(text: &str, area: BBox) -> Vec<(BBox, &str)> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let h = area.height() / lines.len().max(1) as f32;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (BBox::new(area.x0, area.y0 + i as f32 * h, area.x1, area.y0 + (i + 1) as f32 * h), *l))
        .collect()
}

/// Reads the regions of `layout` (page points) from `img` (the upright page, `points_per_pixel`
/// points a pixel). `reference` is the page's other reading (text layer or scan reader) that the
/// words are checked against; `on_region` hears each region's index, count and text as it ends.
/// Setting `cancel` stops the model mid-region and leaves the remaining regions unread.
#[allow(clippy::too_many_arguments)]
pub fn read_regions(
    model: &mut PaddleOcrVl,
    img: &RgbImage,
    points_per_pixel: f32,
    layout: &PageLayout,
    reference: &[Word],
    checked_against: &str,
    on_region: &mut dyn FnMut(usize, usize, &RegionReading),
    cancel: &AtomicBool,
) -> VlmReading {
    let page_keys: String = reference.iter().map(|w| key(&w.text)).collect::<Vec<_>>().join(" ");
    let mut reading =
        VlmReading { words: vec![], confirmed: vec![], regions: vec![], checked_against: checked_against.into() };
    let count = layout.regions.len();
    for (i, region) in layout.regions.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let inside: Vec<&Word> = region.words.iter().filter_map(|&w| reference.get(w as usize)).collect();
        let task = task_for(region.label, &inside);
        let mut out = RegionReading {
            label: region.label,
            task,
            bbox: region.bbox,
            raw: String::new(),
            text: String::new(),
            cells: None,
            words: vec![],
            not_on_page: vec![],
            stop: None,
            error: None,
            tokens: 0,
            ms: 0.0,
        };
        if let Some(task) = task {
            match read_region(model, img, points_per_pixel, region.bbox, task, cancel) {
                Ok(g) => {
                    out.raw = g.text.clone();
                    out.stop = Some(g.stop);
                    out.tokens = g.tokens.len();
                    out.ms = g.prefill_ms + g.decode_ms;
                }
                Err(e) => out.error = Some(e.to_string()),
            }
        }
        let placed = match task {
            Some(task @ (Task::Table | Task::Chart)) => {
                out.cells = if task == Task::Table {
                    otsl_cells(&out.raw, region.bbox)
                } else {
                    chart_cells(&out.raw, region.bbox)
                };
                let cells = out.cells.as_deref().unwrap_or_default();
                let mut rows: Vec<Vec<&str>> = vec![];
                for c in cells {
                    rows.resize_with(rows.len().max(c.row as usize + 1), Vec::new);
                    rows[c.row as usize].push(&c.text);
                }
                out.text = if out.cells.is_some() {
                    rows.iter().map(|r| r.join("\t")).collect::<Vec<_>>().join("\n")
                } else {
                    out.raw.clone()
                };
                let lines: Vec<(BBox, &str)> = match &out.cells {
                    Some(cells) => {
                        cells.iter().filter(|c| !c.text.is_empty()).map(|c| (c.bbox, c.text.as_str())).collect()
                    }
                    None => text_lines(&out.raw, region.bbox),
                };
                place_words(&lines, &inside)
            }
            // A formula is one piece of LaTeX, not words to check.
            Some(Task::Formula) => {
                out.text = out.raw.trim().to_string();
                let word = Word { text: out.text.clone(), bbox: region.bbox, size: 0.0, bold: false };
                if out.text.is_empty() {
                    vec![]
                } else {
                    vec![(word, false)]
                }
            }
            _ => {
                out.text = out.raw.trim().to_string();
                place_words(&text_lines(&out.raw, region.bbox), &inside)
            }
        };
        for (word, confirmed) in placed {
            let k = key(&word.text);
            // Only a page with another reading can say a word is not on it.
            if !confirmed
                && task != Some(Task::Formula)
                && !k.is_empty()
                && !reference.is_empty()
                && !page_keys.contains(&k)
            {
                out.not_on_page.push(word.text.clone());
            }
            out.words.push(reading.words.len() as u32);
            reading.words.push(word);
            reading.confirmed.push(confirmed);
        }
        on_region(i, count, &out);
        reading.regions.push(out);
    }
    reading
}

/// One region's pixels (padded, clamped to the image) read as `task`.
fn read_region(
    model: &mut PaddleOcrVl,
    img: &RgbImage,
    points_per_pixel: f32,
    bbox: BBox,
    task: Task,
    cancel: &AtomicBool,
) -> Result<Generation> {
    let s = points_per_pixel.max(1e-6);
    let (w, h) = img.dimensions();
    let x0 = ((bbox.x0 / s) as u32).saturating_sub(PAD).min(w.saturating_sub(1));
    let y0 = ((bbox.y0 / s) as u32).saturating_sub(PAD).min(h.saturating_sub(1));
    let x1 = ((bbox.x1 / s).ceil() as u32 + PAD).clamp(x0 + 1, w);
    let y1 = ((bbox.y1 / s).ceil() as u32 + PAD).clamp(y0 + 1, h);
    let crop = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    model.read(&crop, task, MAX_REGION_TOKENS, &mut |_| !cancel.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x0: f32) -> Word {
        Word { text: text.into(), bbox: BBox::new(x0, 10.0, x0 + 30.0, 20.0), size: 8.0, bold: false }
    }

    #[test]
    fn words_matching_the_page_take_its_boxes_and_others_are_estimated() {
        let reference = [word("TOTAL", 0.0), word("52.30", 40.0), word("CASH", 80.0)];
        let refs: Vec<&Word> = reference.iter().collect();
        let area = BBox::new(0.0, 0.0, 120.0, 30.0);
        let placed = place_words(&text_lines("Total 52.30 Cash 60.00", area), &refs);
        let texts: Vec<(&str, bool)> = placed.iter().map(|(w, c)| (w.text.as_str(), *c)).collect();
        assert_eq!(texts, [("Total", true), ("52.30", true), ("Cash", true), ("60.00", false)]);
        assert_eq!(placed[1].0.bbox, reference[1].bbox);
        let estimated = placed[3].0.bbox;
        assert!(
            estimated.x0 > 80.0 && estimated.x1 <= 120.0 && estimated.y0 >= 0.0 && estimated.y1 <= 30.0,
            "{estimated:?}"
        );
        // A near miss (one letter in five) still aligns.
        let placed = place_words(&text_lines("T0TAL", area), &refs);
        assert!(placed[0].1);
    }

    #[test]
    fn otsl_tables_become_cells_with_spans() {
        let area = BBox::new(0.0, 0.0, 300.0, 20.0);
        let cells = otsl_cells("<fcel>Item<lcel><fcel>Total<nl><fcel>Tea<ecel><fcel>3.00<nl>", area).unwrap();
        let summary: Vec<(u32, u32, u32, &str)> =
            cells.iter().map(|c| (c.row, c.col, c.col_span, c.text.as_str())).collect();
        assert_eq!(
            summary,
            [(0, 0, 2, "Item"), (0, 2, 1, "Total"), (1, 0, 1, "Tea"), (1, 1, 1, ""), (1, 2, 1, "3.00")]
        );
        assert_eq!(cells[0].bbox, BBox::new(0.0, 0.0, 200.0, 10.0));
        let tall = otsl_cells("<fcel>a<fcel>b<nl><ucel><fcel>c<nl>", area).unwrap();
        assert_eq!(tall[0].row_span, 2);
        assert!(otsl_cells("just text", area).is_none());
    }

    #[test]
    fn labels_pick_the_models_tasks() {
        let word = |text: &str, x: f32, y: f32| Word {
            text: text.into(),
            bbox: BBox::new(x, y, x + 20.0, y + 8.0),
            size: 8.0,
            bold: false,
        };
        let caption = [word("Sales", 0.0, 0.0), word("by", 25.0, 0.0), word("region", 50.0, 0.0)];
        let caption: Vec<&Word> = caption.iter().collect();
        assert_eq!(task_for(Label::Table, &caption), Some(Task::Table));
        assert_eq!(task_for(Label::Formula, &[]), Some(Task::Formula));
        assert_eq!(task_for(Label::SectionHeader, &caption), Some(Task::Text));
        assert_eq!(task_for(Label::Picture, &[]), None);
        assert_eq!(task_for(Label::Picture, &caption), Some(Task::Text), "a picture holding words");
        // A value axis (numbers in a column) or a category axis of years (in a row): a chart.
        let axis = [word("0", 0.0, 90.0), word("50", 0.0, 60.0), word("100", 0.0, 30.0), word("150%", 1.0, 0.0)];
        let years = [word("2021", 30.0, 100.0), word("2022", 60.0, 101.0), word("2023", 90.0, 100.0)];
        for ticks in [&axis[..], &years[..]] {
            let words: Vec<&Word> = caption.iter().copied().chain(ticks).collect();
            assert_eq!(task_for(Label::Picture, &words), Some(Task::Chart));
        }
        // Three numbers scattered over a photo's text are not an axis.
        let scattered = [word("12", 0.0, 0.0), word("7", 80.0, 40.0), word("2024", 160.0, 90.0)];
        let words: Vec<&Word> = caption.iter().copied().chain(&scattered).collect();
        assert_eq!(task_for(Label::Picture, &words), Some(Task::Text));
    }

    #[test]
    fn chart_data_becomes_cells() {
        let area = BBox::new(0.0, 0.0, 200.0, 90.0);
        let cells =
            chart_cells("Year | Sales | Cost\n|---|---|---|\n2021 | 10 | 4\n| 2022 | 12.5 | 6 |", area).unwrap();
        assert_eq!(cells.len(), 9);
        assert_eq!((cells[4].row, cells[4].col, cells[4].text.as_str()), (1, 1, "10"));
        assert_eq!((cells[8].row, cells[8].col, cells[8].text.as_str()), (2, 2, "6"));
        assert_eq!(cells[0].bbox, BBox::new(0.0, 0.0, 200.0 / 3.0, 30.0));
        assert!(chart_cells("no data here", area).is_none());
    }
}
