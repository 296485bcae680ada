//! What a worker and its parent say to each other: requests and replies as JSON frames, each
//! followed by a binary payload (a page's pixels travel raw, not as JSON numbers).
//!
//! Frame: `u32` length of the JSON header (little-endian), the header, `u64` payload length,
//! the payload. Lengths are checked against limits before anything is allocated, so a confused
//! or hostile peer cannot make the other side reserve gigabytes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{FileKind, Reading};
use crate::source::{ImagePage, MAX_PIXELS};
use crate::Error;

/// Largest JSON header accepted (a page's words are the largest: a dense page is ~1 MB).
const MAX_HEADER: u32 = 256 << 20;
/// Largest payload accepted: the largest page Pagewise draws, in RGBA.
const MAX_PAYLOAD: u64 = MAX_PIXELS * 4;

/// One job for a worker. Paths are the library's stored copies (or the file being imported).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Open a PDF and send [`Reply::PdfOpened`], then one [`Reply::PdfPage`] per page: its text
    /// layer, and (when `draw_scans`) the pixels of each page that has none, `scan_pixels` long.
    ReadPdf { path: PathBuf, password: Option<String>, draw_scans: bool, scan_pixels: f32 },
    /// Draw one page (1-based) `width` pixels wide, at most `height` high.
    DrawPdfPage { path: PathBuf, password: Option<String>, page: u32, width: u32, height: u32 },
    /// The pages of an image file (sizes, DPI, orientation), each decoded once to check it.
    ImagePages { path: PathBuf, kind: FileKind },
    /// Decode page `index` (0-based) of an image file, orientation applied.
    DecodeImage { path: PathBuf, kind: FileKind, index: usize },
    /// Rewrite a PDF that pdfium refused, as well as it can be read, to `out`.
    RepairPdf { path: PathBuf, out: PathBuf },
}

/// A worker's answer. A request's answer ends with a reply for which [`Reply::is_last`] holds.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    PdfOpened {
        pages: u32,
        encrypted: bool,
    },
    /// A page read: its text layer (or why it could not be read) and, for a page without one,
    /// its pixels (in the frame's payload) or why they could not be drawn.
    PdfPage {
        no: u32,
        reading: Result<Reading, String>,
        pixels: Option<Result<ImageHeader, WireError>>,
    },
    Image(ImageHeader),
    ImagePages(Vec<ImagePage>),
    Done,
    Failed(WireError),
}

impl Reply {
    /// Whether the request's answer is complete with this reply.
    pub fn is_last(&self) -> bool {
        !matches!(self, Reply::PdfOpened { .. } | Reply::PdfPage { .. })
    }
}

/// The size of pixels carried in a frame's payload (RGBA, 8 bits per channel).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ImageHeader {
    pub width: u32,
    pub height: u32,
}

/// The engine errors that opening a file can end in, as they cross the process boundary. The
/// path is the parent's to put back (the worker only saw the stored copy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WireError {
    NotFound,
    Unreadable(String),
    Io(String),
    PasswordRequired,
    WrongPassword,
    UnsupportedSecurity,
    Corrupt { format: String, detail: String },
    ImageTooLarge { width: u64, height: u64, limit: u64 },
    Page { page: u32, detail: String },
    PdfiumMissing(String),
    Internal(String),
}

impl WireError {
    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::NotFound { .. } => WireError::NotFound,
            Error::Unreadable { source, .. } => WireError::Unreadable(source.to_string()),
            Error::Io { source, .. } => WireError::Io(source.to_string()),
            Error::PasswordRequired { .. } => WireError::PasswordRequired,
            Error::WrongPassword { .. } => WireError::WrongPassword,
            Error::UnsupportedSecurity { .. } => WireError::UnsupportedSecurity,
            Error::Corrupt { format, detail, .. } => {
                WireError::Corrupt { format: format.to_string(), detail: detail.clone() }
            }
            Error::ImageTooLarge { width, height, limit, .. } => {
                WireError::ImageTooLarge { width: *width, height: *height, limit: *limit }
            }
            Error::Page { page, detail, .. } => WireError::Page { page: *page, detail: detail.clone() },
            Error::PdfiumMissing { detail } => WireError::PdfiumMissing(detail.clone()),
            other => WireError::Internal(other.to_string()),
        }
    }

    /// The engine error again, about the file the user gave (`path`).
    pub fn into_error(self, path: &Path) -> Error {
        let path = path.to_path_buf();
        match self {
            WireError::NotFound => Error::NotFound { path },
            WireError::Unreadable(detail) => Error::Unreadable { path, source: std::io::Error::other(detail) },
            WireError::Io(detail) => Error::Io { path, source: std::io::Error::other(detail) },
            WireError::PasswordRequired => Error::PasswordRequired { path },
            WireError::WrongPassword => Error::WrongPassword { path },
            WireError::UnsupportedSecurity => Error::UnsupportedSecurity { path },
            WireError::Corrupt { format, detail } => Error::Corrupt { path, format: static_format(&format), detail },
            WireError::ImageTooLarge { width, height, limit } => Error::ImageTooLarge { path, width, height, limit },
            WireError::Page { page, detail } => Error::Page { doc: path.display().to_string(), page, detail },
            WireError::PdfiumMissing(detail) => Error::PdfiumMissing { detail },
            WireError::Internal(detail) => Error::Internal { path, detail },
        }
    }
}

/// `Error::Corrupt` names its format with a `&'static str`: one of those the engine uses.
fn static_format(format: &str) -> &'static str {
    const FORMATS: [&str; 8] = ["PDF", "image", "pdf", "png", "jpeg", "tiff", "webp", "file"];
    FORMATS.into_iter().find(|f| *f == format).unwrap_or("file")
}

/// Write one frame: the JSON header, then `payload` (empty for most replies).
pub fn write_frame<T: Serialize>(out: &mut impl Write, header: &T, payload: &[u8]) -> std::io::Result<()> {
    let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    let mut head = Vec::with_capacity(json.len() + 12);
    head.extend_from_slice(&(json.len() as u32).to_le_bytes());
    head.extend_from_slice(&json);
    head.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.write_all(&head)?;
    out.write_all(payload)?;
    out.flush()
}

/// Read one frame: its header and payload. End of input before a frame starts is `Ok(None)`.
pub fn read_frame<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> std::io::Result<Option<(T, Vec<u8>)>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_HEADER {
        return Err(std::io::Error::other(format!("a frame header of {len} bytes is above the limit")));
    }
    let mut json = vec![0u8; len as usize];
    input.read_exact(&mut json)?;
    let header = serde_json::from_slice(&json).map_err(std::io::Error::other)?;
    let mut len = [0u8; 8];
    input.read_exact(&mut len)?;
    let len = u64::from_le_bytes(len);
    if len > MAX_PAYLOAD {
        return Err(std::io::Error::other(format!("a frame payload of {len} bytes is above the limit")));
    }
    let mut payload = vec![0u8; len as usize];
    input.read_exact(&mut payload)?;
    Ok(Some((header, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_payloads() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Reply::Image(ImageHeader { width: 2, height: 1 }), &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        write_frame(&mut buf, &Reply::Done, &[]).unwrap();
        let mut input = buf.as_slice();
        let (first, pixels): (Reply, _) = read_frame(&mut input).unwrap().unwrap();
        assert!(matches!(first, Reply::Image(ImageHeader { width: 2, height: 1 })));
        assert_eq!(pixels, [1, 2, 3, 4, 5, 6, 7, 8]);
        let (second, _): (Reply, _) = read_frame(&mut input).unwrap().unwrap();
        assert!(second.is_last());
        assert!(read_frame::<Reply>(&mut input).unwrap().is_none(), "a clean end of input");
    }

    #[test]
    fn refuses_absurd_lengths_before_allocating() {
        let mut frame = u32::MAX.to_le_bytes().to_vec();
        frame.extend_from_slice(b"{}");
        assert!(read_frame::<Reply>(&mut frame.as_slice()).is_err());
        let mut frame = Vec::new();
        write_frame(&mut frame, &Reply::Done, &[]).unwrap();
        let at = frame.len() - 8;
        frame[at..].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read_frame::<Reply>(&mut frame.as_slice()).is_err());
    }

    #[test]
    fn errors_cross_typed_and_about_the_users_file() {
        let stored = Path::new("/library/originals/ab.pdf");
        let e = Error::Corrupt { path: stored.into(), format: "PDF", detail: "no xref".into() };
        let back = WireError::from_error(&e).into_error(Path::new("/home/me/scan.pdf"));
        assert_eq!(back.kind(), "corrupt");
        assert!(back.to_string().starts_with("/home/me/scan.pdf: damaged or not a valid PDF"), "{back}");
        let e = Error::WrongPassword { path: stored.into() };
        assert_eq!(WireError::from_error(&e).into_error(Path::new("x.pdf")).kind(), "wrong_password");
    }
}
