//! Many distinct small documents for large-library tests and benchmarks: document `n` is a
//! text PDF about one of [`TOPICS`] (by `n % TOPICS.len()`), titled with its topic and number,
//! whose every page carries its own reference word ([`reference`]) and filler text seeded by
//! `n` and the page, so no two documents have the same bytes.

use crate::{filler_words, PdfBuilder, PdfPage};

/// What the documents are about: each topic's word is in the title and on every page of the
/// documents it names, so a search for it finds `1 / TOPICS.len()` of the documents.
pub const TOPICS: &[&str] = &[
    "contract",
    "receipt",
    "statement",
    "lease",
    "warranty",
    "payslip",
    "quotation",
    "manual",
    "certificate",
    "policy",
    "minutes",
    "proposal",
    "waybill",
    "timesheet",
    "prescription",
    "mortgage",
    "ticket",
    "report",
    "licence",
    "tender",
];

/// Lines of filler text on each page (about ten words each).
const LINES: u32 = 12;

/// Document `n`'s reference word, on each of its pages and nowhere else.
pub fn reference(n: u32) -> String {
    format!("ref{n:07}q")
}

/// Document `n` of a generated library: `pages` A4 pages of about 130 words each.
pub fn library_document(n: u32, pages: u32) -> Vec<u8> {
    let topic = TOPICS[n as usize % TOPICS.len()];
    let mut pdf = PdfBuilder::new();
    for p in 0..pages {
        let mut page = PdfPage::a4().bold(50.0, 60.0, 16.0, &format!("{} {n:05}", capitalised(topic))).text(
            400.0,
            60.0,
            9.0,
            &format!("{} page {}", reference(n), p + 1),
        );
        for line in 0..LINES {
            let mut words = filler_words(n.wrapping_mul(7919) ^ (p * 100 + line), 10);
            if line % 4 == 0 {
                words[(n + line) as usize % 10] = topic;
            }
            page = page.text(50.0, 100.0 + 14.0 * line as f32, 10.0, &words.join(" "));
        }
        pdf = pdf.page(page);
    }
    pdf.build()
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_distinct_and_name_their_topic() {
        let (a, b) = (library_document(1, 2), library_document(2, 2));
        assert_ne!(a, b);
        assert_ne!(library_document(1, 2), library_document(1 + TOPICS.len() as u32, 2));
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("Receipt 00001") && text.contains(&reference(1)), "{text}");
    }
}
