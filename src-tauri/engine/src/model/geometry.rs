//! Geometry: every box is a [`BBox`] in **page points (1/72 inch), origin at the top-left of the
//! page as it is displayed** (after the page's /Rotate), for PDFs and images alike. An image page
//! measures its pixels at the image's stated DPI (72 when it states none). Conversion happens only
//! at the edges (the text-layer reader, the renderer).

use serde::{Deserialize, Serialize};

/// Serialised as `[x0, y0, x1, y1]`.
#[derive(Debug, Clone, Copy, PartialEq, ts_rs::TS)]
#[ts(export, type = "[number, number, number, number]")]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox { x0: x0.min(x1), y0: y0.min(y1), x1: x0.max(x1), y1: y0.max(y1) }
    }
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn union(&self, o: &BBox) -> BBox {
        BBox { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    pub fn overlap_area(&self, o: &BBox) -> f32 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        w.max(0.0) * h.max(0.0)
    }
    pub fn grow(&self, by: f32) -> BBox {
        BBox::new(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)
    }
    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
    pub fn contains_point(&self, (x, y): (f32, f32)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
    pub fn h_overlap(&self, o: &BBox) -> f32 {
        (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0)
    }
    /// Length of the overlap of the two boxes' vertical extents.
    pub fn v_overlap(&self, o: &BBox) -> f32 {
        (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0)
    }
    /// Do the boxes touch or overlap, allowing a gap of `slack`?
    pub fn near(&self, o: &BBox, slack: f32) -> bool {
        self.x0 - slack <= o.x1 && o.x0 - slack <= self.x1 && self.y0 - slack <= o.y1 && o.y0 - slack <= self.y1
    }
    /// Rounded to 0.01 pt so stored and printed boxes stay short and stable.
    pub fn rounded(&self) -> BBox {
        let r = |v: f32| (v * 100.0).round() / 100.0;
        BBox { x0: r(self.x0), y0: r(self.y0), x1: r(self.x1), y1: r(self.y1) }
    }
}

impl From<BBox> for [f32; 4] {
    fn from(b: BBox) -> Self {
        [b.x0, b.y0, b.x1, b.y1]
    }
}

impl Serialize for BBox {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.x0, self.y0, self.x1, self.y1].serialize(s)
    }
}

impl<'de> Deserialize<'de> for BBox {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <[f32; 4]>::deserialize(d).map(BBox::from)
    }
}

impl From<[f32; 4]> for BBox {
    fn from(a: [f32; 4]) -> Self {
        BBox::new(a[0], a[1], a[2], a[3])
    }
}

/// Which way text runs on a page, in display coordinates: unit vectors along the baseline and
/// towards the top of the glyphs. Upright text runs (1, 0) with up (0, -1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TextDirection {
    pub along: (f32, f32),
    pub up: (f32, f32),
}

impl Default for TextDirection {
    fn default() -> Self {
        TextDirection { along: (1.0, 0.0), up: (0.0, -1.0) }
    }
}

/// Union boxes that touch (within `slack`) into clusters; each cluster with its piece count.
pub fn merge_touching(boxes: Vec<BBox>, slack: f32) -> Vec<(BBox, usize)> {
    let mut clusters: Vec<(BBox, usize)> = Vec::new();
    for b in boxes {
        let mut merged = (b, 1);
        // Absorb every cluster the growing box touches, until none does.
        loop {
            let touching = clusters.iter().position(|(c, _)| c.near(&merged.0, slack));
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
