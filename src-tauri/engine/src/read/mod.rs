//! Readers turn a page into words with boxes, each returning a [`Reading`]: the PDF's own text
//! layer ([`text_layer`], with its drawn [`graphics`] and filled [`form_fields`]), the OCR reader for scans and photos
//! ([`ocr`]), and PaddleOCR-VL region by region on request ([`vlm`]). [`order`] puts a reading's
//! words into lines and blocks in reading order, and [`page_of`] makes the page the library keeps.

pub mod form_fields;
pub mod frame;
pub mod graphics;
pub mod ocr;
pub mod order;
pub mod straighten;
pub mod text_layer;
pub mod vlm;

use crate::model::{Page, PageNo, PageSource, Reading};

/// Page `no` from a reading: its words in reading order (lines, blocks, text).
pub fn page_of(no: PageNo, reading: Reading) -> Page {
    let (lines, text) = order::arrange_in(&reading.words, &reading.reader_lines, reading.direction);
    Page {
        page: no,
        width: reading.width,
        height: reading.height,
        rotation: reading.rotation,
        turned: reading.turned,
        photo_corners: reading.photo_corners,
        source: reading.source,
        text,
        words: reading.words,
        lines,
        graphics: reading.graphics,
        error: None,
    }
}

/// A page that could not be read at all, with why.
pub fn failed_page(no: PageNo, error: crate::model::ErrorReport) -> Page {
    let reading = Reading { source: PageSource::Failed, ..Default::default() };
    Page { error: Some(error), ..page_of(no, reading) }
}
/// Levenshtein distance in characters (insertions, deletions, substitutions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("Ünï", "Uni"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
