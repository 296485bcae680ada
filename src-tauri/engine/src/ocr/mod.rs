//! Reading pages without a text layer (PP-OCR: DB text detection, CTC text recognition).
//! So far the model-independent halves: turning the detector's probability map into text
//! boxes ([`db`]) and the recogniser's per-step class scores into strings ([`ctc`]). The
//! networks themselves run on the [`crate::nn`] graph runner once it covers their operators.

pub mod ctc;
pub mod db;
