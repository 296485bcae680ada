//! Regions that run on past where the analysis of blocks ends them: a caption that wraps past
//! its block, and the pieces of a displayed formula set as lines of their own.

use super::text_shapes::is_wordless;
use crate::model::{BBox, Label, Region};

/// A caption that wraps past its block: a short text region right under it, in the same
/// column, is the rest of the caption when the caption has not ended a sentence.
pub(crate) fn continue_captions(regions: &mut Vec<Region>, body: f32) {
    let mut k = 0;
    while k < regions.len() {
        if regions[k].label == Label::Caption && !regions[k].text.trim_end().ends_with('.') {
            let cap = regions[k].bbox;
            let next = regions.iter().position(|r| {
                r.label == Label::Text
                    && r.bbox.y0 >= cap.y1 - 1.0
                    && r.bbox.y0 - cap.y1 < 1.5 * body
                    && r.bbox.h_overlap(&cap) > 0.5 * r.bbox.width().min(cap.width())
                    && r.bbox.height() < 3.5 * body * 1.3
            });
            if let Some(j) = next {
                let rest = regions.remove(j);
                if j < k {
                    k -= 1;
                }
                let cap = &mut regions[k];
                cap.bbox = cap.bbox.union(&rest.bbox);
                cap.words.extend(rest.words);
                cap.text = format!("{}\n{}", cap.text, rest.text);
                continue;
            }
        }
        k += 1;
    }
}

/// Superscripts, limits and fraction parts of a displayed equation often come out as a line of
/// their own ("1 (0) (0)"), and a fraction's parts beside the rest of it: a short text
/// region without words, touching a formula above, below or beside it, is part of the formula.
pub(crate) fn attach_formula_pieces(regions: &mut [Region], body: f32) {
    let formulas: Vec<BBox> = regions.iter().filter(|r| r.label == Label::Formula).map(|r| r.bbox).collect();
    for r in regions.iter_mut().filter(|r| r.label == Label::Text && r.bbox.height() < 3.0 * body) {
        let gap = |a0: f32, a1: f32, b0: f32, b1: f32| (a0 - b1).max(b0 - a1);
        let touching = formulas.iter().any(|f| {
            let (b, r) = (f, &r.bbox);
            b.h_overlap(r) > 0.0 && gap(b.y0, b.y1, r.y0, r.y1) < body
                || b.v_overlap(r) > 0.0 && gap(b.x0, b.x1, r.x0, r.x1) < 2.0 * body
        });
        if is_wordless(&r.text) && touching {
            r.label = Label::Formula;
            r.confidence = 0.5;
        }
    }
}
