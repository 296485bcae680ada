//! Where a PDF page's content stands as displayed: PDF user space (origin bottom-left,
//! unrotated) mapped to page points, origin top-left, the page's /Rotate applied.

use pdfium_render::prelude::*;

use crate::model::BBox;

/// Maps PDF user space (origin bottom-left, unrotated) to displayed page points.
#[derive(Debug, Clone, Copy)]
pub struct PageFrame {
    /// The visible box (media box clipped by the crop box) in user space.
    pub left: f32,
    pub bottom: f32,
    pub right: f32,
    pub top: f32,
    pub rotation: u16,
}

impl PageFrame {
    /// Displayed page size in points.
    pub fn size(&self) -> (f32, f32) {
        let (w, h) = (self.right - self.left, self.top - self.bottom);
        if self.rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// A user-space point to displayed coordinates (x right, y down).
    pub fn to_display(&self, x: f32, y: f32) -> (f32, f32) {
        let (w, h) = (self.right - self.left, self.top - self.bottom);
        let (u, v) = (x - self.left, self.top - y);
        match self.rotation {
            90 => (h - v, u),
            180 => (w - u, h - v),
            270 => (v, w - u),
            _ => (u, v),
        }
    }

    pub fn rect_to_display(&self, left: f32, bottom: f32, right: f32, top: f32) -> BBox {
        let (ax, ay) = self.to_display(left, bottom);
        let (bx, by) = self.to_display(right, top);
        BBox::new(ax, ay, bx, by)
    }
}

pub fn page_frame(page: &PdfPage) -> PageFrame {
    let rotation = match page.rotation() {
        Ok(PdfPageRenderRotation::Degrees90) => 90,
        Ok(PdfPageRenderRotation::Degrees180) => 180,
        Ok(PdfPageRenderRotation::Degrees270) => 270,
        _ => 0,
    };
    match page.boundaries().bounding() {
        Ok(b) => PageFrame {
            left: b.bounds.left().value,
            bottom: b.bounds.bottom().value,
            right: b.bounds.right().value,
            top: b.bounds.top().value,
            rotation,
        },
        Err(_) => {
            // pdfium reports the displayed size; undo the swap to get the user-space box.
            let (w, h) = (page.width().value, page.height().value);
            let (w, h) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
            PageFrame { left: 0.0, bottom: 0.0, right: w, top: h, rotation }
        }
    }
}
