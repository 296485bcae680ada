//! A form page's lines cut into pieces, each of which may be a key or a value: after a word that
//! ends a label with a colon ("Date: 5/6/93") and at a gap wider than [`PIECE_GAP`] line heights.
//! (A model of where else a new text starts, fitted on FUNSD's word gaps, cut more keys from
//! their values but more values apart: pair F1 fell; docs/quality.md.)

use crate::model::{BBox, Page};

/// A gap between words wider than this many line heights always cuts a line.
const PIECE_GAP: f32 = 1.2;

/// A run of words on one line that may be a key or a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub words: Vec<u32>,
    pub bbox: BBox,
    pub text: String,
    /// Is it the first piece of its line?
    pub starts_line: bool,
    /// The block (paragraph or column piece) of its line, as the reader ordered the page.
    pub block: u32,
}

/// The page's lines cut into pieces: after a word that ends with a colon, and at a gap wider
/// than [`PIECE_GAP`] line heights.
pub fn pieces(page: &Page) -> Vec<Piece> {
    let mut out = Vec::new();
    for line in page.lines.iter().filter(|l| !l.words.is_empty()) {
        let h = line.bbox.height().max(1.0);
        let mut runs: Vec<Vec<u32>> = vec![vec![line.words[0]]];
        for pair in line.words.windows(2) {
            let (a, b) = (&page.words[pair[0] as usize], &page.words[pair[1] as usize]);
            if a.text.ends_with(':') || b.bbox.x0 - a.bbox.x1 > PIECE_GAP * h {
                runs.push(Vec::new());
            }
            runs.last_mut().expect("a run").push(pair[1]);
        }
        out.extend(runs.into_iter().enumerate().map(|(k, words)| piece(page, words, k == 0, line.block)));
    }
    out
}

/// A piece of `words` (in reading order, at least one).
pub fn piece(page: &Page, words: Vec<u32>, starts_line: bool, block: u32) -> Piece {
    let bbox =
        words.iter().skip(1).fold(page.words[words[0] as usize].bbox, |b, &w| b.union(&page.words[w as usize].bbox));
    let text = words.iter().map(|&w| page.words[w as usize].text.as_str()).collect::<Vec<_>>().join(" ");
    Piece { words, bbox, text, starts_line, block }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::pairs::tests::form;

    #[test]
    fn lines_are_cut_after_a_colon_and_at_wide_gaps() {
        let page = form(&[(100.0, &[("Name:", 50.0), ("John", 86.0), ("Smith", 116.0), ("Fax", 300.0)])]);
        let texts: Vec<String> = pieces(&page).into_iter().map(|p| p.text).collect();
        assert_eq!(texts, ["Name:", "John Smith", "Fax"]);
        assert!(pieces(&page)[0].starts_line && !pieces(&page)[1].starts_line);
    }
}
