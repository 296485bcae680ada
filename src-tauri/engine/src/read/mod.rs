//! Readers turn a page into words with boxes. The text-layer reader handles digital PDFs;
//! pages without a text layer are read from their pixels by [`crate::ocr`] (or marked
//! `needs-reader` when that cannot run yet); [`crate::vlm::page_reader`] reads them with a
//! vision-language model on request.

pub mod graphics;
pub mod order;
pub mod text_layer;

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
