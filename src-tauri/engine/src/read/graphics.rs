//! A PDF page's drawn graphics ([`Graphics`]) read with pdfium, as layout analysis needs them:
//! ruling lines (table borders, separators), embedded pictures, and clusters of vector drawing
//! (charts, diagrams).

use pdfium_render::prelude::*;

use super::frame::PageFrame;
use crate::model::{BBox, Graphics};

/// Objects looked at per page; a page drawn with more is a picture, not a table.
const MAX_OBJECTS: usize = 20_000;

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
        while let Some(k) = clusters.iter().position(|(c, _, _)| c.near(&merged.0, 3.0)) {
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
