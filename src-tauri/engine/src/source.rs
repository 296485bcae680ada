//! Import's first step: sniff the file's type from its bytes (never the extension), hash it
//! (sha256 = identity) block by block, and learn an image's pages, pixel size, DPI and orientation
//! without trusting a header that claims absurd dimensions.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use image::{ImageDecoder, ImageReader};
use sha2::{Digest, Sha256};

use crate::model::{DocId, FileKind};
use crate::{Error, Result};

/// Largest image page Pagewise decodes or renders: 200 megapixels (for example 14142 x 14142,
/// an A4 page scanned at 1700 DPI). Anything larger is refused as a likely decompression bomb.
pub const MAX_PIXELS: u64 = 200_000_000;

/// Largest image file Pagewise imports (a PDF may be any size: pdfium reads it from disk as it
/// needs). Image decoders hold the whole file in memory.
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;

/// A file on disk, identified and typed without holding it in memory: its type sniffed from
/// its first KiB, its identity the sha256 of its bytes, read in blocks.
pub struct SourceFile {
    pub path: PathBuf,
    pub size: u64,
    pub kind: FileKind,
    pub id: DocId,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::Unreadable {
                path: path.into(),
                source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            });
        }
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut head = Vec::with_capacity(1024);
        (&mut file).take(1024).read_to_end(&mut head).map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::EmptyFile { path: path.into() });
        }
        let kind = sniff(&head)
            .ok_or_else(|| Error::UnsupportedType { path: path.into(), detail: describe_unknown(&head) })?;
        let mut hasher = Sha256::new();
        hasher.update(&head);
        let size = head.len() as u64 + std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
        if kind != FileKind::Pdf && size > MAX_IMAGE_BYTES {
            return Err(Error::FileTooLarge { path: path.into(), bytes: size, limit: MAX_IMAGE_BYTES });
        }
        Ok(SourceFile { path: path.into(), size, kind, id: DocId(hex(&hasher.finalize())) })
    }
}

/// A reader that hashes what passes through it, to check that a file copied is the file that
/// was identified (it may change on disk in between).
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Hashing { inner, hasher: Sha256::new() }
    }
    pub fn id(self) -> DocId {
        DocId(hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The file type, from magic bytes. A PDF header may sit after some junk (readers accept
/// `%PDF-` within the first KiB, so do we).
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    let head = &bytes[..bytes.len().min(1024)];
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(FileKind::Tiff)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(FileKind::Webp)
    } else if head.windows(5).any(|w| w == b"%PDF-") {
        Some(FileKind::Pdf)
    } else {
        None
    }
}

fn describe_unknown(bytes: &[u8]) -> String {
    let known: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive (DOCX/XLSX/ODT?)"),
        (b"GIF8", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"\xD0\xCF\x11\xE0", "an old Microsoft Office file"),
        (b"{\\rtf", "an RTF document"),
        (b"\x1f\x8b", "a gzip archive"),
    ];
    if let Some((_, name)) = known.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return format!("looks like {name}");
    }
    let sample = &bytes[..bytes.len().min(512)];
    if std::str::from_utf8(sample).is_ok() {
        "looks like plain text".into()
    } else {
        let magic: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("unknown signature {}", magic.join(" "))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One page of an image file: its pixels, the DPI it states, its EXIF orientation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImagePage {
    /// Pixel size as displayed (EXIF rotation applied).
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: f32,
    /// EXIF orientation 1..=8 (1 = as stored).
    pub orientation: u8,
}

impl ImagePage {
    /// Page size in points: pixels at the stated DPI.
    pub fn size_points(&self) -> (f32, f32) {
        let scale = 72.0 / self.dpi;
        (self.width_px as f32 * scale, self.height_px as f32 * scale)
    }
}

/// Pages of an image file, checked against [`MAX_PIXELS`] from the header alone, then fully
/// decoded once so a truncated or corrupt image is refused at import rather than at viewing.
pub fn image_pages(path: &Path, bytes: &[u8], kind: FileKind) -> Result<Vec<ImagePage>> {
    let pages = match kind {
        FileKind::Tiff => tiff_pages(path, bytes)?,
        _ => vec![single_image_page(path, bytes, kind)?],
    };
    for index in 0..pages.len() {
        decode_image_page(path, bytes, kind, index)?;
    }
    Ok(pages)
}

fn corrupt(path: &Path, kind: FileKind, detail: impl ToString) -> Error {
    Error::Corrupt { path: path.into(), format: kind.as_str(), detail: detail.to_string() }
}

fn check_pixels(path: &Path, width: u32, height: u32) -> Result<()> {
    let (w, h) = (width as u64, height as u64);
    if w * h > MAX_PIXELS {
        return Err(Error::ImageTooLarge { path: path.into(), width: w, height: h, limit: MAX_PIXELS });
    }
    if w == 0 || h == 0 {
        return Err(Error::Corrupt { path: path.into(), format: "image", detail: "zero width or height".into() });
    }
    Ok(())
}

fn single_image_page(path: &Path, bytes: &[u8], kind: FileKind) -> Result<ImagePage> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| corrupt(path, kind, e))?;
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(path, kind, e))?;
    let (w, h) = decoder.dimensions();
    check_pixels(path, w, h)?;
    let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    let (width_px, height_px) = if orientation >= 5 { (h, w) } else { (w, h) };
    Ok(ImagePage { width_px, height_px, dpi: stated_dpi(bytes, kind).unwrap_or(72.0), orientation })
}

fn tiff_pages(path: &Path, bytes: &[u8]) -> Result<Vec<ImagePage>> {
    use tiff::decoder::Decoder;
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    let mut pages = Vec::new();
    loop {
        let (w, h) = decoder.dimensions().map_err(|e| corrupt(path, FileKind::Tiff, e))?;
        check_pixels(path, w, h)?;
        let dpi = tiff_dpi(&mut decoder).unwrap_or(72.0);
        pages.push(ImagePage { width_px: w, height_px: h, dpi, orientation: 1 });
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    }
    Ok(pages)
}

fn tiff_dpi<R: std::io::Read + std::io::Seek>(decoder: &mut tiff::decoder::Decoder<R>) -> Option<f32> {
    use tiff::tags::Tag;
    let x = decoder.find_tag(Tag::XResolution).ok().flatten()?.into_f32().ok()?;
    let unit = decoder.find_tag(Tag::ResolutionUnit).ok().flatten().and_then(|v| v.into_u16().ok()).unwrap_or(2);
    let dpi = if unit == 3 { x * 2.54 } else { x };
    sane_dpi(dpi)
}

fn sane_dpi(dpi: f32) -> Option<f32> {
    (dpi.is_finite() && (30.0..=4800.0).contains(&dpi)).then_some(dpi)
}

/// DPI as the file states it: PNG pHYs, JPEG JFIF density. (TIFF is read with its tags.)
fn stated_dpi(bytes: &[u8], kind: FileKind) -> Option<f32> {
    match kind {
        FileKind::Png => {
            let at = bytes.windows(4).take(4096).position(|w| w == b"pHYs")?;
            let d = bytes.get(at + 4..at + 13)?;
            let ppu = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as f32;
            (d[8] == 1).then(|| sane_dpi(ppu * 0.0254)).flatten()
        }
        FileKind::Jpeg => {
            let at = bytes.windows(5).take(64).position(|w| w == b"JFIF\0")?;
            let d = bytes.get(at + 7..at + 12)?;
            let density = u16::from_be_bytes([d[1], d[2]]) as f32;
            match d[0] {
                1 => sane_dpi(density),
                2 => sane_dpi(density * 2.54),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Decode page `index` of an image file to pixels, EXIF orientation applied.
pub fn decode_image_page(path: &Path, bytes: &[u8], kind: FileKind, index: usize) -> Result<image::DynamicImage> {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    if kind == FileKind::Tiff {
        return decode_tiff_page(path, bytes, index, limits);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| corrupt(path, kind, e))?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(path, kind, e))?;
    let (w, h) = decoder.dimensions();
    check_pixels(path, w, h)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| corrupt(path, kind, e))?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn decode_tiff_page(path: &Path, bytes: &[u8], index: usize, limits: image::Limits) -> Result<image::DynamicImage> {
    use image::codecs::tiff::TiffDecoder;
    // The image crate decodes a TIFF's first page only: step the tiff decoder to the page
    // and re-encode it alone, which keeps one decoding path (colour types, predictors, CMYK).
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    if index > 0 {
        decoder.seek_to_image(index).map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    }
    let (w, h) = decoder.dimensions().map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    check_pixels(path, w, h)?;
    if index == 0 {
        let mut d = TiffDecoder::new(Cursor::new(bytes)).map_err(|e| corrupt(path, FileKind::Tiff, e))?;
        d.set_limits(limits).map_err(|e| corrupt(path, FileKind::Tiff, e))?;
        return image::DynamicImage::from_decoder(d).map_err(|e| corrupt(path, FileKind::Tiff, e));
    }
    let color = decoder.colortype().map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    let data = decoder.read_image().map_err(|e| corrupt(path, FileKind::Tiff, e))?;
    tiff_buffer_to_image(w, h, color, data).ok_or_else(|| {
        corrupt(path, FileKind::Tiff, format!("page {} has an unsupported colour type {color:?}", index + 1))
    })
}

fn tiff_buffer_to_image(
    w: u32,
    h: u32,
    color: tiff::ColorType,
    data: tiff::decoder::DecodingResult,
) -> Option<image::DynamicImage> {
    use image::DynamicImage as D;
    use tiff::decoder::DecodingResult as R;
    use tiff::ColorType as C;
    match (color, data) {
        (C::Gray(8), R::U8(v)) => image::GrayImage::from_raw(w, h, v).map(D::ImageLuma8),
        (C::Gray(1), R::U8(v)) => {
            // Bilevel fax pages: one bit per pixel, rows padded to whole bytes.
            let row = w.div_ceil(8) as usize;
            let px = (0..h as usize)
                .flat_map(|y| (0..w as usize).map(move |x| (y, x)))
                .map(|(y, x)| if v[y * row + x / 8] & (0x80 >> (x % 8)) != 0 { 255 } else { 0 })
                .collect();
            image::GrayImage::from_raw(w, h, px).map(D::ImageLuma8)
        }
        (C::RGB(8), R::U8(v)) => image::RgbImage::from_raw(w, h, v).map(D::ImageRgb8),
        (C::RGBA(8), R::U8(v)) => image::RgbaImage::from_raw(w, h, v).map(D::ImageRgba8),
        (C::Gray(16), R::U16(v)) => image::ImageBuffer::from_raw(w, h, v).map(D::ImageLuma16),
        (C::RGB(16), R::U16(v)) => image::ImageBuffer::from_raw(w, h, v).map(D::ImageRgb16),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_bytes_not_extension() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
        assert_eq!(sniff(b"garbage before\n%PDF-1.4"), Some(FileKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(FileKind::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileKind::Jpeg));
        assert_eq!(sniff(b"II*\0...."), Some(FileKind::Tiff));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
    }

    #[test]
    fn describes_unknown_files() {
        assert!(describe_unknown(b"PK\x03\x04rest").contains("ZIP"));
        assert!(describe_unknown(b"just some words").contains("plain text"));
    }

    #[test]
    fn reads_png_dpi() {
        let img = image::RgbImage::new(10, 10);
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        assert_eq!(stated_dpi(&png, FileKind::Png), None);
        // Splice a pHYs chunk (300 DPI = 11811 px/m) after IHDR.
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&9u32.to_be_bytes());
        chunk.extend_from_slice(b"pHYs");
        chunk.extend_from_slice(&11811u32.to_be_bytes());
        chunk.extend_from_slice(&11811u32.to_be_bytes());
        chunk.push(1);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        png.splice(33..33, chunk);
        let dpi = stated_dpi(&png, FileKind::Png).unwrap();
        assert!((dpi - 300.0).abs() < 0.1, "{dpi}");
    }
}
