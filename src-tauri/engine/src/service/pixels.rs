//! A stored page's pixels: drawn at a DPI for the viewer and exports, at a model's size for the
//! readers and the detector, and as a thumbnail cached in the library.

use std::path::PathBuf;

use image::{DynamicImage, RgbImage, RgbaImage};

use super::Library;
use crate::model::{DocId, FileKind};
use crate::render::{turn, MAX_DPI, MIN_DPI};
use crate::source::MAX_PIXELS;
use crate::store::THUMB_WIDTH;
use crate::{worker, Error, Result};

impl Library {
    /// Page `page` (1-based) of document `id` drawn at `dpi`, upright.
    pub fn render_page(&self, id: &DocId, page: u32, dpi: f32) -> Result<RgbaImage> {
        let doc = self.store.document(id)?;
        let meta = self.store.page(id, page)?;
        let dpi = dpi.clamp(MIN_DPI, MAX_DPI);
        let (w, h) =
            ((meta.width * dpi / 72.0).round().max(1.0) as u32, (meta.height * dpi / 72.0).round().max(1.0) as u32);
        if w as u64 * h as u64 > MAX_PIXELS {
            return Err(Error::RenderTooLarge { doc: doc.name, page, width: w, height: h, dpi, limit: MAX_PIXELS });
        }
        let path = self.store.readable_path(id, doc.kind);
        // Pixels are drawn as stored, then turned upright as the reader turned them.
        let (sw, sh) = if meta.turned % 180 == 90 { (h, w) } else { (w, h) };
        let img = match doc.kind {
            FileKind::Pdf => worker::draw_pdf_page(&path, self.password_of(id), page, sw, sh)?,
            kind => {
                let img = worker::decode_image(&path, kind, page as usize - 1, &path)?;
                image::imageops::resize(&img, sw, sh, image::imageops::FilterType::Triangle)
            }
        };
        Ok(turn(img, meta.turned))
    }

    /// A page's pixels for a model, upright: an image file's own pixels, or a PDF page drawn so
    /// that its longer side is `pdf_pixels` long.
    pub fn pixels(&self, id: &DocId, page: u32, pdf_pixels: f32) -> Result<RgbImage> {
        let doc = self.store.document(id)?;
        let meta = self.store.page(id, page)?;
        let img = if doc.kind == FileKind::Pdf {
            self.render_page(id, page, 72.0 * pdf_pixels / meta.width.max(meta.height).max(1.0))?
        } else {
            let path = self.store.original_path(id, doc.kind);
            turn(worker::decode_image(&path, doc.kind, page as usize - 1, &path)?, meta.turned)
        };
        Ok(DynamicImage::ImageRgba8(img).to_rgb8())
    }

    /// The cached thumbnail of a page (drawn on first use).
    pub fn thumbnail(&self, id: &DocId, page: u32) -> Result<PathBuf> {
        let path = self.store.thumbnail_path(id, page);
        if path.is_file() {
            return Ok(path);
        }
        let meta = self.store.page(id, page)?;
        let dpi = THUMB_WIDTH as f32 * 72.0 / meta.width.max(1.0);
        let img = self.render_page(id, page, dpi)?;
        let mut png = std::io::Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(img)
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| Error::Io { path: path.clone(), source: std::io::Error::other(e) })?;
        self.store.keep_thumbnail(id, page, png.get_ref())
    }
}
