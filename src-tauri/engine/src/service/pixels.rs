//! A stored page's pixels: drawn at a DPI for the viewer and exports, at a model's size for the
//! readers and the detector, and as a thumbnail cached in the library.

use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage, RgbaImage};

use super::Library;
use crate::model::{DocId, FileKind, Page};
use crate::read::straighten::straighten;
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
            kind => resize(&image_page(&path, kind, &meta, true)?, sw, sh),
        };
        Ok(turn(img, meta.turned))
    }

    /// The photo a page was found in, as it was shot (turned upright as the page was), drawn
    /// as wide as the page at `dpi`; the page itself where it is no photo's straightened page.
    pub fn render_original(&self, id: &DocId, page: u32, dpi: f32) -> Result<RgbaImage> {
        let doc = self.store.document(id)?;
        let meta = self.store.page(id, page)?;
        if meta.photo_corners.is_none() {
            return self.render_page(id, page, dpi);
        }
        let photo = turn(image_page(&self.store.original_path(id, doc.kind), doc.kind, &meta, false)?, meta.turned);
        let (w, h) = photo.dimensions();
        let width = (meta.width * dpi.clamp(MIN_DPI, MAX_DPI) / 72.0).round().max(1.0);
        let height = (h as f32 * width / w.max(1) as f32).round().max(1.0);
        if width as u64 * height as u64 > MAX_PIXELS {
            let (width, height) = (width as u32, height as u32);
            return Err(Error::RenderTooLarge { doc: doc.name, page, width, height, dpi, limit: MAX_PIXELS });
        }
        Ok(resize(&photo, width as u32, height as u32))
    }

    /// A page's pixels for a model, upright: an image file's own pixels, or a PDF page drawn so
    /// that its longer side is `pdf_pixels` long.
    pub fn pixels(&self, id: &DocId, page: u32, pdf_pixels: f32) -> Result<RgbImage> {
        let doc = self.store.document(id)?;
        let meta = self.store.page(id, page)?;
        let img = if doc.kind == FileKind::Pdf {
            self.render_page(id, page, 72.0 * pdf_pixels / meta.width.max(meta.height).max(1.0))?
        } else {
            turn(image_page(&self.store.original_path(id, doc.kind), doc.kind, &meta, true)?, meta.turned)
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

/// An image file's page as decoded, straightened where it was found in a photo and `straight`
/// is asked for (not yet turned).
fn image_page(path: &Path, kind: FileKind, meta: &Page, straight: bool) -> Result<RgbaImage> {
    let img = worker::decode_image(path, kind, meta.page as usize - 1, path)?;
    Ok(match (&meta.photo_corners, straight) {
        (Some(corners), true) => {
            let page = straighten(&DynamicImage::ImageRgba8(img).to_rgb8(), corners);
            DynamicImage::ImageRgb8(page).to_rgba8()
        }
        _ => img,
    })
}

fn resize(img: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    image::imageops::resize(img, width, height, image::imageops::FilterType::Triangle)
}
