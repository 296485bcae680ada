//! Pages to pixels: PDFs through pdfium (on its one thread), image files through the image
//! decoder. Thumbnails are cached as PNG files in the library.

use std::path::PathBuf;

pub use image::ImageFormat;
use image::{DynamicImage, RgbaImage};
use pdfium_render::prelude::*;

use crate::doc::{DocId, FileKind};
use crate::source::{self, MAX_PIXELS};
use crate::store::Library;
use crate::{pdfium, Error, Result};

/// Thumbnail width in pixels.
pub const THUMB_WIDTH: u32 = 240;
pub const MIN_DPI: f32 = 9.0;
pub const MAX_DPI: f32 = 1200.0;

/// Render page `page` (1-based) of document `id` at `dpi`.
pub fn render_page(lib: &Library, id: &DocId, page: u32, dpi: f32) -> Result<RgbaImage> {
    let doc = lib.document(id)?;
    let meta = lib.page(id, page)?;
    let dpi = dpi.clamp(MIN_DPI, MAX_DPI);
    let (w, h) =
        ((meta.width * dpi / 72.0).round().max(1.0) as u32, (meta.height * dpi / 72.0).round().max(1.0) as u32);
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(Error::Page {
            doc: doc.name,
            page,
            detail: format!("{w}x{h} pixels at {dpi} DPI is above the {MAX_PIXELS}-pixel limit; use a lower --dpi"),
        });
    }
    let path = lib.original_path(id, doc.kind);
    // Pixels are drawn as stored, then turned upright as the reader turned them.
    let (sw, sh) = if meta.turned % 180 == 90 { (h, w) } else { (w, h) };
    let img = match doc.kind {
        FileKind::Pdf => render_pdf_page(path, lib.password(id)?, page, sw, sh)?,
        kind => {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let img = source::decode_image_page(&path, &bytes, kind, page as usize - 1)?;
            img.resize_exact(sw, sh, image::imageops::FilterType::Triangle).to_rgba8()
        }
    };
    Ok(turn(img, meta.turned))
}

/// `img` turned clockwise by `degrees` (0, 90, 180 or 270).
pub fn turn<P: image::Pixel + 'static>(
    img: image::ImageBuffer<P, Vec<P::Subpixel>>,
    degrees: u16,
) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
    match degrees % 360 {
        90 => image::imageops::rotate90(&img),
        180 => image::imageops::rotate180(&img),
        270 => image::imageops::rotate270(&img),
        _ => img,
    }
}

/// A pdfium page drawn `width` pixels wide (at most `height` high), forms and annotations too.
pub(crate) fn pdf_bitmap(page: &PdfPage, width: u32, height: u32) -> std::result::Result<RgbaImage, PdfiumError> {
    let config = PdfRenderConfig::new()
        .set_target_width(width as i32)
        .set_maximum_height(height as i32 + 1)
        .render_form_data(true)
        .render_annotations(true);
    page.render_with_config(&config)?.as_image().map(|img| img.to_rgba8())
}

fn render_pdf_page(path: PathBuf, password: Option<String>, page: u32, width: u32, height: u32) -> Result<RgbaImage> {
    pdfium::worker()?.run(move |pdfium| {
        let doc = pdfium
            .load_pdf_from_file(&path, password.as_deref())
            .map_err(|e| pdfium::load_error(&path, password.as_deref(), e))?;
        let page_fail = |e: PdfiumError| Error::Page {
            doc: path.display().to_string(),
            page,
            detail: format!("pdfium could not render it: {e:?}"),
        };
        let p = doc.pages().get(page as PdfPageIndex - 1).map_err(page_fail)?;
        pdf_bitmap(&p, width, height).map_err(page_fail)
    })?
}

/// A page's pixels for a model, upright: an image file's own pixels, or a PDF page rendered so
/// that its longer side is `pdf_pixels` long.
pub fn page_pixels(lib: &Library, id: &DocId, page: u32, pdf_pixels: f32) -> Result<RgbaImage> {
    let doc = lib.document(id)?;
    let meta = lib.page(id, page)?;
    if doc.kind == FileKind::Pdf {
        return render_page(lib, id, page, 72.0 * pdf_pixels / meta.width.max(meta.height).max(1.0));
    }
    let path = lib.original_path(id, doc.kind);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(turn(source::decode_image_page(&path, &bytes, doc.kind, page as usize - 1)?.to_rgba8(), meta.turned))
}

/// The cached thumbnail of a page (rendered on first use).
pub fn thumbnail(lib: &Library, id: &DocId, page: u32) -> Result<PathBuf> {
    let path = lib.thumbs_dir().join(format!("{}-p{page}-w{THUMB_WIDTH}.png", id.0));
    if path.is_file() {
        return Ok(path);
    }
    let meta = lib.page(id, page)?;
    let dpi = THUMB_WIDTH as f32 * 72.0 / meta.width.max(1.0);
    let img = render_page(lib, id, page, dpi)?;
    let tmp = path.with_extension("part");
    DynamicImage::ImageRgba8(img)
        .save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(|e| Error::Io { path: tmp.clone(), source: std::io::Error::other(e) })?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}
