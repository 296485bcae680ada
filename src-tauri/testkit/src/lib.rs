//! Documents with known content, for tests, benchmarks and the demo set: a small PDF writer
//! (independent of pdfium, so tests check pdfium's reading against what was written) and
//! image files with EXIF orientation, DPI and several pages.

mod hostile;
mod images;
mod library;
mod pdf;
mod resources;

pub use hostile::hostile_pdf;
pub use images::{jpeg_with_orientation, multipage_tiff, png_page, webp_page, with_exif_orientation};
pub use library::{library_document, reference, TOPICS};
pub use pdf::{PdfBuilder, PdfPage, TextItem};
pub use resources::{eval_root, pdfium_available};

/// Width of `text` in Helvetica at `size` points (standard AFM widths; used to predict boxes).
pub fn helvetica_width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| pdf::helvetica_advance(c) as f32).sum::<f32>() * size / 1000.0
}

/// Lorem-like filler words, deterministic, for multi-column and volume documents.
pub fn filler_words(seed: u32, n: usize) -> Vec<&'static str> {
    const WORDS: &[&str] = &[
        "document", "page", "layout", "reading", "column", "invoice", "total", "amount", "date", "analysis", "region",
        "table", "value", "local", "search", "evidence", "export", "field", "scan", "offline", "desktop", "engine",
        "library", "order", "text", "words", "lines", "block", "header", "footer",
    ];
    let mut state = seed.wrapping_mul(2654435761).wrapping_add(12345);
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            WORDS[(state as usize) % WORDS.len()]
        })
        .collect()
}

/// A two-column article of `pages` A4 pages with a title, headers and footers: an ordinary
/// digital document of realistic density (about 700 words a page).
pub fn article(pages: u32, seed: u32) -> Vec<u8> {
    let mut pdf = PdfBuilder::new();
    for p in 0..pages {
        let mut page = PdfPage::a4().text(50.0, 30.0, 8.0, "Pagewise synthetic article").text(
            280.0,
            820.0,
            8.0,
            &format!("Page {}", p + 1),
        );
        let mut top = 70.0;
        if p == 0 {
            page = page.bold(50.0, 70.0, 20.0, "A Synthetic Two-Column Article");
            top = 110.0;
        }
        for (col, x) in [50.0f32, 310.0].into_iter().enumerate() {
            let mut y = top;
            let mut line = 0u32;
            while y < 790.0 {
                let words = filler_words(seed ^ (p * 1000 + col as u32 * 500 + line), 6);
                page = page.text(x, y, 9.5, &words.join(" "));
                y += 12.0;
                line += 1;
            }
        }
        pdf = pdf.page(page);
    }
    pdf.build()
}
