//! Detected text blocks split into paragraphs from the pixels: the rows of ink inside the box
//! form text lines; a gap between lines well above the block's usual line gap starts a new
//! paragraph, and so does an indented line after a short one. (The CDLA detector often
//! returns several paragraphs as one text block.)

use image::RgbImage;

use super::Detection;
use crate::render::luma;

/// Darker than this (0..255 luma) counts as ink.
const INK: u8 = 150;

/// The paragraphs of `det` (in image pixels); `det` itself when it holds only one.
pub fn split(img: &RgbImage, det: &Detection) -> Vec<Detection> {
    let (w, h) = img.dimensions();
    let [x0, y0, x1, y1] = det.bbox.map(|v| v.max(0.0) as u32);
    let (x1, y1) = (x1.min(w), y1.min(h));
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return vec![det.clone()];
    }
    let width = (x1 - x0) as usize;
    // A row has ink when a few of its pixels are dark (not a stray speck).
    let inked: Vec<bool> =
        (y0..y1).map(|y| (x0..x1).filter(|&x| luma(img.get_pixel(x, y).0) < INK).count() * 200 > width).collect();
    let mut lines: Vec<(u32, u32)> = Vec::new(); // [start, end) rows, relative to y0
    let mut start = None;
    for (i, &ink) in inked.iter().chain(std::iter::once(&false)).enumerate() {
        match (ink, start) {
            (true, None) => start = Some(i as u32),
            (false, Some(s)) => {
                lines.push((s, i as u32));
                start = None;
            }
            _ => {}
        }
    }
    if lines.len() < 3 {
        return vec![det.clone()];
    }
    let mut gaps: Vec<u32> = lines.windows(2).map(|p| p[1].0 - p[0].1).collect();
    let mut heights: Vec<u32> = lines.iter().map(|l| l.1 - l.0).collect();
    heights.sort_unstable();
    let line_h = heights[heights.len() / 2].max(1);
    let mut sorted = gaps.clone();
    sorted.sort_unstable();
    let usual = sorted[sorted.len() / 2];
    let threshold = (usual as f32 * 1.8).max(usual as f32 + 0.4 * line_h as f32);
    // Ink extent of each line, to see indents and short last lines.
    let extent = |&(a, b): &(u32, u32)| {
        let cols: Vec<u32> =
            (x0..x1).filter(|&x| (y0 + a..y0 + b).any(|y| luma(img.get_pixel(x, y).0) < INK)).collect();
        (*cols.first().unwrap_or(&x0), *cols.last().unwrap_or(&x1))
    };
    let extents: Vec<(u32, u32)> = lines.iter().map(extent).collect();
    let left = extents.iter().map(|e| e.0).min().unwrap_or(x0);
    let right = extents.iter().map(|e| e.1).max().unwrap_or(x1);
    let em = line_h as f32;
    let starts_paragraph = |i: usize| {
        let indented = extents[i].0 as f32 >= left as f32 + 0.8 * em && (extents[i].0 as f32) < left as f32 + 4.0 * em;
        let previous_short = (extents[i - 1].1 as f32) < right as f32 - 2.0 * em;
        indented && previous_short
    };
    let mut out = Vec::new();
    let mut first = 0;
    gaps.push(u32::MAX);
    for (i, &g) in gaps.iter().enumerate() {
        if g as f32 > threshold || i + 1 < lines.len() && starts_paragraph(i + 1) {
            let (top, bottom) = (lines[first].0, lines[i].1);
            out.push(Detection {
                class: det.class,
                score: det.score,
                bbox: [det.bbox[0], (y0 + top) as f32, det.bbox[2], (y0 + bottom) as f32],
            });
            first = i + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Black bars 8 px high as text lines, 6 px apart, with a 30 px gap after the third.
    #[test]
    fn a_wide_gap_between_lines_starts_a_paragraph() {
        let mut img = RgbImage::from_pixel(200, 200, image::Rgb([255, 255, 255]));
        let tops = [10, 24, 38, 76, 90, 104];
        for t in tops {
            for y in t..t + 8 {
                for x in 20..180 {
                    img.put_pixel(x, y, image::Rgb([0, 0, 0]));
                }
            }
        }
        let det = Detection { class: 0, score: 0.9, bbox: [15.0, 5.0, 185.0, 120.0] };
        let parts = split(&img, &det);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!((parts[0].bbox[1], parts[0].bbox[3]), (10.0, 46.0));
        assert_eq!((parts[1].bbox[1], parts[1].bbox[3]), (76.0, 112.0));
        let blank = RgbImage::from_pixel(50, 50, image::Rgb([255, 255, 255]));
        assert_eq!(split(&blank, &det).len(), 1);
    }
}
