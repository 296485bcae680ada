//! Fitting the product's small models on training sets, reproducibly, with k-fold
//! cross-validation by document; each writes a weights file under assets/ranking/ that the
//! product compiles in.
//!
//! - [`fields`]: `fit-ranker`, the ranking of answer candidates for fields and questions.
//! - [`forms`]: `fit-pairs`, the key-values of forms read from pixels.
//! - [`logistic`]: the logistic regression and conditional logit both fit.

pub mod fields;
pub mod forms;
mod logistic;

/// The fold of a document, by a stable hash of its file name: it does not depend on the order
/// sets are read in.
fn fold_of(file: &str, folds: usize) -> usize {
    let hash = file.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    hash as usize % folds
}
