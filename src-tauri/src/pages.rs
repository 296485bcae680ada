//! Page images for the viewer, served through the `page:` protocol so that the web view never
//! reads the file system: `page://localhost/p/<doc>/<page>?w=<pixels>` is the page drawn that wide
//! (PNG), `page://localhost/t/<doc>/<page>` its thumbnail (PNG, cached on disk by the engine).
//! Drawn pages are kept in a small memory cache, and the next page is drawn ahead while the
//! person reads this one.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ExtendedColorType, ImageEncoder};
use pagewise_engine::{DocId, Result};
use tauri::http::{Response, StatusCode};

use crate::library_pool::LibraryPool;

/// Drawn pages kept in memory (a few screens of paging back and forth at two zoom levels).
const CACHED_PAGES: usize = 24;
const MIN_WIDTH: u32 = 64;
const MAX_WIDTH: u32 = 4000;

type Key = (String, u32, u32);

#[derive(Default)]
pub struct PageCache(Mutex<VecDeque<(Key, Arc<Vec<u8>>)>>);

impl PageCache {
    fn get(&self, key: &Key) -> Option<Arc<Vec<u8>>> {
        let mut entries = self.0.lock().expect("page cache");
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at).expect("present");
        let bytes = entry.1.clone();
        entries.push_back(entry);
        Some(bytes)
    }

    fn put(&self, key: Key, bytes: Arc<Vec<u8>>) {
        let mut entries = self.0.lock().expect("page cache");
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, bytes));
        while entries.len() > CACHED_PAGES {
            entries.pop_front();
        }
    }

    /// Forget a removed document's pages.
    pub fn forget(&self, doc: &str) {
        self.0.lock().expect("page cache").retain(|(k, _)| k.0 != doc);
    }
}

/// What a `page:` URL asks for.
#[derive(Debug, PartialEq)]
pub enum PageRequest {
    Page {
        doc: String,
        page: u32,
        width: u32,
    },
    /// The photo a photographed page was found in, drawn as wide as the page.
    Original {
        doc: String,
        page: u32,
        width: u32,
    },
    Thumbnail {
        doc: String,
        page: u32,
    },
}

impl PageRequest {
    pub fn parse(path: &str, query: Option<&str>) -> Option<PageRequest> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let [what, doc, page] = parts[..] else { return None };
        // Document ids are sha256 hex: nothing else reaches the library.
        if doc.len() != 64 || !doc.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let page: u32 = page.parse().ok().filter(|p| *p >= 1)?;
        let doc = doc.to_ascii_lowercase();
        let width = || {
            let asked = query.unwrap_or("").split('&').find_map(|kv| kv.strip_prefix("w="));
            asked.and_then(|w| w.parse::<u32>().ok()).unwrap_or(1000).clamp(MIN_WIDTH, MAX_WIDTH)
        };
        match what {
            "t" => Some(PageRequest::Thumbnail { doc, page }),
            "p" => Some(PageRequest::Page { doc, page, width: width() }),
            "o" => Some(PageRequest::Original { doc, page, width: width() }),
            _ => None,
        }
    }
}

/// Answer one `page:` request (called on a worker thread).
pub fn respond(
    library: &Arc<LibraryPool>,
    cache: &Arc<PageCache>,
    path: &str,
    query: Option<&str>,
) -> Response<Vec<u8>> {
    let Some(req) = PageRequest::parse(path, query) else {
        return plain(StatusCode::BAD_REQUEST, "not a page address".into());
    };
    let served = match &req {
        PageRequest::Thumbnail { doc, page } => thumbnail(library, doc, *page).map(|b| (Arc::new(b), "image/png")),
        PageRequest::Page { doc, page, width } => {
            let served = drawn(library, cache, doc, *page, *width).map(|b| (b, "image/png"));
            let (library, cache, doc, next, width) = (library.clone(), cache.clone(), doc.clone(), page + 1, *width);
            std::thread::spawn(move || draw_ahead(&library, &cache, &doc, next, width));
            served
        }
        PageRequest::Original { doc, page, width } => original(library, doc, *page, *width).map(|b| (b, "image/png")),
    };
    match served {
        Ok((bytes, mime)) => Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", mime)
            .header("Cache-Control", "no-store")
            .body(bytes.to_vec())
            .expect("response"),
        Err(e) => plain(StatusCode::NOT_FOUND, e.to_string()),
    }
}

fn plain(status: StatusCode, message: String) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(message.into_bytes())
        .expect("response")
}

fn thumbnail(library: &LibraryPool, doc: &str, page: u32) -> Result<Vec<u8>> {
    let path: PathBuf = library.get()?.thumbnail(&DocId(doc.into()), page)?;
    std::fs::read(&path).map_err(|e| pagewise_engine::Error::Io { path, source: e })
}

/// The page drawn `width` pixels wide, from the cache or drawn now.
fn drawn(library: &LibraryPool, cache: &PageCache, doc: &str, page: u32, width: u32) -> Result<Arc<Vec<u8>>> {
    let key = (doc.to_string(), page, width);
    if let Some(bytes) = cache.get(&key) {
        return Ok(bytes);
    }
    let bytes = Arc::new(draw(library, doc, page, width, false)?);
    cache.put(key, bytes.clone());
    Ok(bytes)
}

/// The photo a page was found in, `width` pixels wide (not cached: it is seldom asked for).
fn original(library: &LibraryPool, doc: &str, page: u32, width: u32) -> Result<Arc<Vec<u8>>> {
    draw(library, doc, page, width, true).map(Arc::new)
}

/// The page, or with `original` the photo it was found in, drawn `width` pixels wide as PNG.
fn draw(library: &LibraryPool, doc: &str, page: u32, width: u32, original: bool) -> Result<Vec<u8>> {
    let lib = library.get()?;
    let id = DocId(doc.into());
    let dpi = width as f32 * 72.0 / lib.page(&id, page)?.width.max(1.0);
    let img = if original { lib.render_original(&id, page, dpi)? } else { lib.render_page(&id, page, dpi)? };
    drop(lib);
    png(img, doc, page)
}

/// PNG with fast compression: ~2 ms to encode a 1000-px page where JPEG takes ~35 ms; the
/// bytes only cross into the web view, never a network.
fn png(img: image::RgbaImage, doc: &str, page: u32) -> Result<Vec<u8>> {
    let rgb = DynamicImage::ImageRgba8(img).to_rgb8();
    let mut bytes = Vec::with_capacity(rgb.len() / 4);
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Sub)
        .write_image(&rgb, rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
        .map_err(|e| pagewise_engine::Error::Page {
            doc: doc.into(),
            page,
            detail: format!("could not encode the page image: {e}"),
        })?;
    Ok(bytes)
}

fn draw_ahead(library: &LibraryPool, cache: &PageCache, doc: &str, page: u32, width: u32) {
    let exists = library.get().and_then(|lib| lib.document(&DocId(doc.into()))).is_ok_and(|d| page <= d.pages);
    if exists {
        let _ = drawn(library, cache, doc, page, width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_page_and_thumbnail_addresses_and_nothing_else() {
        let id = "ab".repeat(32);
        assert_eq!(
            PageRequest::parse(&format!("/p/{id}/3"), Some("w=900")),
            Some(PageRequest::Page { doc: id.clone(), page: 3, width: 900 })
        );
        assert_eq!(
            PageRequest::parse(&format!("/p/{id}/1"), Some("w=99999")),
            Some(PageRequest::Page { doc: id.clone(), page: 1, width: MAX_WIDTH })
        );
        assert_eq!(
            PageRequest::parse(&format!("/o/{id}/2"), Some("w=640")),
            Some(PageRequest::Original { doc: id.clone(), page: 2, width: 640 })
        );
        assert_eq!(
            PageRequest::parse(&format!("/t/{id}/2"), None),
            Some(PageRequest::Thumbnail { doc: id.clone(), page: 2 })
        );
        assert_eq!(PageRequest::parse(&format!("/p/{id}/0"), None), None);
        assert_eq!(PageRequest::parse("/p/../../etc/passwd/1", None), None);
        assert_eq!(PageRequest::parse(&format!("/x/{id}/1"), None), None);
    }

    #[test]
    fn cache_keeps_the_most_recent_pages() {
        let cache = PageCache::default();
        for p in 0..(CACHED_PAGES as u32 + 2) {
            cache.put(("d".into(), p, 100), Arc::new(vec![p as u8]));
        }
        assert!(cache.get(&("d".into(), 0, 100)).is_none());
        assert_eq!(cache.get(&("d".into(), CACHED_PAGES as u32 + 1, 100)).unwrap()[0], CACHED_PAGES as u8 + 1);
        cache.forget("d");
        assert!(cache.get(&("d".into(), 5, 100)).is_none());
    }
}
