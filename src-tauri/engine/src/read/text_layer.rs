//! Reading a PDF page's own text layer with pdfium: characters -> words with boxes in page
//! points, origin top-left of the page as displayed (the page's /Rotate applied).

use pdfium_render::prelude::*;

use super::form_fields::read_form_fields;
use super::frame::{page_frame, PageFrame};
use super::graphics::read_graphics;
use crate::model::{BBox, PageSource, Reading, TextDirection, Word};

/// One glyph as the word builder sees it.
struct Glyph {
    ch: char,
    bbox: BBox,
    size: f32,
    index: i32,
}

/// Read a page's words and graphics (a page without words needs a reader of its pixels). Words
/// break at whitespace and where the next glyph is not adjacent to the previous one (a gap wider
/// than a third of the font size, in any direction, which also handles vertical and rotated text).
pub fn read_words(page: &PdfPage) -> Result<Reading, PdfiumError> {
    let frame = page_frame(page);
    let (width, height) = frame.size();
    let text = page.text()?;
    let chars = text.chars();
    let mut words = Vec::new();
    let mut current: Vec<Glyph> = Vec::new();
    let mut votes = DirectionVotes::default();
    for ch in chars.iter() {
        let c = ch.unicode_char().unwrap_or('\u{FFFD}');
        if c.is_whitespace() || c.is_control() || c == '\u{FFFE}' {
            flush(&mut current, &mut words, &chars, &frame, &mut votes);
            continue;
        }
        let Ok(rect) = ch.loose_bounds() else {
            continue;
        };
        let bbox = frame.rect_to_display(rect.left().value, rect.bottom().value, rect.right().value, rect.top().value);
        if !bbox.x0.is_finite() || !bbox.y0.is_finite() {
            continue;
        }
        let size = ch.scaled_font_size().value.abs();
        let glyph = Glyph { ch: c, bbox, size, index: ch.index() as i32 };
        if let Some(prev) = current.last() {
            if !adjacent(prev, &glyph) {
                flush(&mut current, &mut words, &chars, &frame, &mut votes);
            }
        }
        current.push(glyph);
    }
    flush(&mut current, &mut words, &chars, &frame, &mut votes);
    let mut graphics = read_graphics(page, &frame);
    graphics.fields = read_form_fields(page, &frame);
    let source = if words.is_empty() { PageSource::NeedsReader } else { PageSource::TextLayer };
    Ok(Reading {
        source,
        width,
        height,
        rotation: frame.rotation,
        turned: 0,
        photo_corners: None,
        words,
        reader_lines: Vec::new(),
        direction: votes.winner(),
        graphics,
    })
}

fn adjacent(a: &Glyph, b: &Glyph) -> bool {
    let tolerance = 0.35 * a.size.max(b.size).max(1.0);
    let dx = (b.bbox.x0 - a.bbox.x1).max(a.bbox.x0 - b.bbox.x1);
    let dy = (b.bbox.y0 - a.bbox.y1).max(a.bbox.y0 - b.bbox.y1);
    dx <= tolerance && dy <= tolerance
}

fn flush(
    glyphs: &mut Vec<Glyph>,
    words: &mut Vec<Word>,
    chars: &PdfPageTextChars,
    frame: &PageFrame,
    votes: &mut DirectionVotes,
) {
    let Some(first) = glyphs.first() else { return };
    if let Ok(m) = chars.get(first.index as PdfPageTextCharIndex).and_then(|c| c.matrix()) {
        votes.add(frame, (m.a(), m.b()), (m.c(), m.d()), glyphs.len());
    }
    let bbox = glyphs.iter().skip(1).fold(first.bbox, |acc, g| acc.union(&g.bbox));
    let text: String = glyphs.iter().map(|g| g.ch).collect();
    let size = glyphs.iter().map(|g| g.size).fold(0.0, f32::max);
    let bold = chars.get(first.index as PdfPageTextCharIndex).is_ok_and(|c| {
        c.font_weight().is_some_and(|w| {
            matches!(w, PdfFontWeight::Weight700Bold | PdfFontWeight::Weight800 | PdfFontWeight::Weight900)
                || matches!(w, PdfFontWeight::Custom(n) if n >= 600)
        }) || {
            // Names say it when the weight does not: "Arial-BoldMT", TeX's "CMBX10",
            // "NimbusRomNo9L-Medi", "...-Semibold".
            let name = c.font_name().to_ascii_lowercase();
            let family = name.rsplit('+').next().unwrap_or(&name);
            ["bold", "black", "heavy", "semibold", "demi", "-medi"].iter().any(|k| family.contains(k))
                || family.starts_with("cmbx")
                || family.starts_with("cmb1")
        }
    });
    words.push(Word { text, bbox: bbox.rounded(), size: (size * 10.0).round() / 10.0, bold });
    glyphs.clear();
}

/// Counts of glyphs per text direction (baseline and up vectors snapped to the axes).
#[derive(Default)]
struct DirectionVotes {
    counts: std::collections::HashMap<((i8, i8), (i8, i8)), usize>,
}

impl DirectionVotes {
    fn add(&mut self, frame: &PageFrame, along: (f32, f32), up: (f32, f32), glyphs: usize) {
        let to_display = |(vx, vy): (f32, f32)| {
            let (ox, oy) = frame.to_display(frame.left, frame.bottom);
            let (px, py) = frame.to_display(frame.left + vx, frame.bottom + vy);
            snap(px - ox, py - oy)
        };
        if let (Some(a), Some(u)) = (to_display(along), to_display(up)) {
            if a.0 * u.0 + a.1 * u.1 == 0 {
                *self.counts.entry((a, u)).or_default() += glyphs;
            }
        }
    }

    fn winner(&self) -> TextDirection {
        self.counts
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(&(a, u), _)| TextDirection { along: (a.0 as f32, a.1 as f32), up: (u.0 as f32, u.1 as f32) })
            .unwrap_or_default()
    }
}

/// A vector snapped to the nearest axis direction; None for a zero vector.
fn snap(x: f32, y: f32) -> Option<(i8, i8)> {
    if x.abs() < 1e-6 && y.abs() < 1e-6 {
        None
    } else if x.abs() >= y.abs() {
        Some((x.signum() as i8, 0))
    } else {
        Some((0, y.signum() as i8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rotation: u16) -> PageFrame {
        PageFrame { left: 0.0, bottom: 0.0, right: 200.0, top: 100.0, rotation }
    }

    #[test]
    fn unrotated_flips_y() {
        assert_eq!(frame(0).to_display(10.0, 90.0), (10.0, 10.0));
        assert_eq!(frame(0).size(), (200.0, 100.0));
    }

    #[test]
    fn rotation_maps_corners() {
        // The unrotated page's top-left corner goes to the displayed top-right at 90 degrees.
        assert_eq!(frame(90).to_display(0.0, 100.0), (100.0, 0.0));
        assert_eq!(frame(90).size(), (100.0, 200.0));
        assert_eq!(frame(180).to_display(0.0, 100.0), (200.0, 100.0));
        assert_eq!(frame(270).to_display(0.0, 100.0), (0.0, 200.0));
    }

    #[test]
    fn crop_box_offset_is_removed() {
        let f = PageFrame { left: 50.0, bottom: 20.0, right: 250.0, top: 120.0, rotation: 0 };
        assert_eq!(f.to_display(50.0, 120.0), (0.0, 0.0));
        let b = f.rect_to_display(60.0, 100.0, 70.0, 110.0);
        assert_eq!(b, BBox::new(10.0, 10.0, 20.0, 20.0));
    }
}
