//! A PDF page's drawn graphics, as layout analysis needs them: ruling lines (table borders,
//! separators), embedded pictures, and clusters of vector drawing (charts, diagrams).

use pdfium_render::prelude::*;
use serde::{Deserialize, Serialize};

use super::text_layer::PageFrame;
use crate::doc::BBox;

/// Objects looked at per page; a page drawn with more is a picture, not a table.
const MAX_OBJECTS: usize = 20_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graphics {
    /// Thin horizontal or vertical strokes and rectangle edges, in page points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<BBox>,
    /// Embedded raster images and included forms (figures placed from other PDFs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<BBox>,
    /// Areas of vector drawing (charts, diagrams): touching paths, at least one of them
    /// neither a rule nor an outlined rectangle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drawings: Vec<BBox>,
}

impl Graphics {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.pictures.is_empty() && self.drawings.is_empty()
    }
}

pub fn read_graphics(page: &PdfPage, frame: &PageFrame) -> Graphics {
    let mut g = Graphics::default();
    let mut pieces = Vec::new();
    let (pw, ph) = frame.size();
    for object in page.objects().iter().take(MAX_OBJECTS) {
        let Ok(q) = object.bounds() else { continue };
        let r = q.to_rect();
        let b = frame.rect_to_display(r.left().value, r.bottom().value, r.right().value, r.top().value);
        if ![b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite()) || b.width() >= pw * 0.98 && b.height() >= ph * 0.98
        {
            continue; // page backgrounds carry no structure
        }
        match object.object_type() {
            // Form XObjects are mostly included figures (a PDF plot placed in a paper).
            PdfPageObjectType::Image | PdfPageObjectType::XObjectForm if b.width() * b.height() > 16.0 => {
                g.pictures.push(b)
            }
            PdfPageObjectType::Path => {
                let (w, h) = (b.width(), b.height());
                if w.min(h) <= 2.0 && w.max(h) >= 6.0 {
                    g.rules.push(b);
                } else if w >= 6.0 && h >= 6.0 && is_rectangle(&object) {
                    g.rules.extend(edges(&b));
                } else if w * h >= 20.0 {
                    pieces.push(b);
                }
            }
            _ => {}
        }
    }
    let drawn = pieces.len();
    pieces.extend(g.rules.iter().copied());
    // Clusters holding a piece (pieces come first in the list) and at least three paths.
    let mut clusters: Vec<(BBox, usize, bool)> = Vec::new();
    for (i, b) in pieces.into_iter().enumerate() {
        let mut merged = (b, 1, i < drawn);
        while let Some(k) = clusters.iter().position(|(c, _, _)| near(c, &merged.0, 3.0)) {
            let (c, n, p) = clusters.swap_remove(k);
            merged = (merged.0.union(&c), merged.1 + n, merged.2 || p);
        }
        clusters.push(merged);
    }
    g.drawings = clusters.into_iter().filter(|(_, n, piece)| *n >= 3 && *piece).map(|(b, _, _)| b).collect();
    g
}

fn is_rectangle(object: &PdfPageObject) -> bool {
    object.as_path_object().is_some_and(|p| p.segments().len() <= 5 && p.is_stroked().unwrap_or(false))
}

fn edges(b: &BBox) -> [BBox; 4] {
    [
        BBox::new(b.x0, b.y0, b.x1, b.y0),
        BBox::new(b.x0, b.y1, b.x1, b.y1),
        BBox::new(b.x0, b.y0, b.x0, b.y1),
        BBox::new(b.x1, b.y0, b.x1, b.y1),
    ]
}

/// Union boxes that touch (within `slack`) into clusters; each cluster with its piece count.
pub fn merge_touching(boxes: Vec<BBox>, slack: f32) -> Vec<(BBox, usize)> {
    let mut clusters: Vec<(BBox, usize)> = Vec::new();
    for b in boxes {
        let mut merged = (b, 1);
        // Absorb every cluster the growing box touches, until none does.
        loop {
            let touching = clusters.iter().position(|(c, _)| near(c, &merged.0, slack));
            match touching {
                Some(i) => {
                    let (c, n) = clusters.swap_remove(i);
                    merged = (merged.0.union(&c), merged.1 + n);
                }
                None => break,
            }
        }
        clusters.push(merged);
    }
    clusters
}

fn near(a: &BBox, b: &BBox, slack: f32) -> bool {
    a.x0 - slack <= b.x1 && b.x0 - slack <= a.x1 && a.y0 - slack <= b.y1 && b.y0 - slack <= a.y1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_boxes_merge_and_far_ones_do_not() {
        let boxes = vec![
            BBox::new(0.0, 0.0, 10.0, 10.0),
            BBox::new(11.0, 0.0, 20.0, 10.0),
            BBox::new(100.0, 100.0, 110.0, 110.0),
            BBox::new(5.0, 9.0, 15.0, 30.0),
        ];
        let mut c = merge_touching(boxes, 2.0);
        c.sort_by(|a, b| a.0.x0.total_cmp(&b.0.x0));
        assert_eq!(c, vec![(BBox::new(0.0, 0.0, 20.0, 30.0), 3), (BBox::new(100.0, 100.0, 110.0, 110.0), 1)]);
    }
}
