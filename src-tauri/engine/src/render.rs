//! Pages to pixels: how a PDF page is drawn by pdfium (in a worker: see `worker`), and pixels
//! turned as a reader turned them. (Which page of which stored file, and the thumbnail cache,
//! are the library's: see `service::pixels`.)

pub use image::ImageFormat;
use image::RgbaImage;
use pdfium_render::prelude::*;

pub const MIN_DPI: f32 = 9.0;
pub const MAX_DPI: f32 = 1200.0;

/// A pixel's brightness (0..255, ITU-R 601 weights).
pub(crate) fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8
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
