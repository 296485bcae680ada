//! Greedy decoding helpers: the next token, and cutting repetition loops (a known failure of
//! small VLMs: the same line or cell over and over until the token budget runs out).

use candle_core::{DType, Tensor, D};

use super::prompt::Prompter;
use super::Stop;
use crate::{Error, Result};

/// Greedy decoding from the prompt's last logits: `step` feeds a token and returns the next
/// logits. Stops at a stop token, the token limit, a repetition loop (cut), or when `on_text`
/// (called with each new piece of whole characters) returns false.
pub fn decode(
    first: &Tensor,
    mut step: impl FnMut(u32) -> Result<Tensor>,
    stop_tokens: &[u32],
    prompter: &Prompter,
    max_tokens: usize,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<(Vec<u32>, Stop)> {
    let mut tokens = Vec::new();
    let mut shown = String::new();
    let mut next = argmax(first)?;
    let mut stop = Stop::TokenLimit;
    while tokens.len() < max_tokens {
        if stop_tokens.contains(&next) {
            stop = Stop::EndOfText;
            break;
        }
        tokens.push(next);
        if let Some(cut) = repetition_cut(&tokens) {
            tokens.truncate(cut);
            stop = Stop::Loop;
            break;
        }
        // Text is shown as whole characters: decode all and send what is new.
        let text = prompter.decode(&tokens, true);
        if text.len() > shown.len() && text.starts_with(&shown) && !text.ends_with('\u{FFFD}') {
            if !on_text(&text[shown.len()..]) {
                stop = Stop::Cancelled;
                break;
            }
            shown = text;
        }
        if tokens.len() == max_tokens {
            break;
        }
        next = argmax(&step(next)?)?;
    }
    let text = prompter.decode(&tokens, true);
    if stop != Stop::Cancelled && text.len() > shown.len() && text.starts_with(&shown) {
        on_text(&text[shown.len()..]);
    }
    Ok((tokens, stop))
}

/// The highest-scoring token of the last position's logits.
pub fn argmax(logits: &Tensor) -> Result<u32> {
    let last = logits.flatten_all().and_then(|l| l.to_dtype(DType::F32));
    last.and_then(|l| l.argmax(D::Minus1))
        .and_then(|t| t.to_scalar::<u32>())
        .map_err(|e| Error::Model { model: "vlm".into(), detail: e.to_string() })
}

/// When the tokens end in a unit repeated so often that it is a loop, the length to cut them to
/// (the text up to and including the unit's first occurrence). A loop: a unit of 1..=`max_unit`
/// tokens repeated at least `min_repeats` times, covering at least `min_span` tokens.
pub fn repetition_cut(tokens: &[u32]) -> Option<usize> {
    const MAX_UNIT: usize = 48;
    const MIN_REPEATS: usize = 4;
    const MIN_SPAN: usize = 16;
    let n = tokens.len();
    for unit in 1..=MAX_UNIT.min(n / MIN_REPEATS) {
        let mut repeats = 1;
        while (repeats + 1) * unit <= n && tokens[n - (repeats + 1) * unit..n - repeats * unit] == tokens[n - unit..] {
            repeats += 1;
        }
        if repeats >= MIN_REPEATS && repeats * unit >= MIN_SPAN {
            return Some(n - (repeats - 1) * unit);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::repetition_cut;

    #[test]
    fn a_loop_is_cut_after_its_first_round() {
        let mut tokens = vec![1, 2, 3];
        for _ in 0..6 {
            tokens.extend([7, 8, 9, 10]);
        }
        assert_eq!(repetition_cut(&tokens), Some(3 + 4));
        let mut single = vec![5];
        single.extend([0; 20]);
        assert_eq!(repetition_cut(&single), Some(2));
    }

    #[test]
    fn ordinary_text_and_short_repeats_are_kept() {
        assert_eq!(repetition_cut(&(0..100).collect::<Vec<u32>>()), None);
        assert_eq!(repetition_cut(&[1, 2, 1, 2, 1, 2]), None, "too short to call a loop");
        assert_eq!(repetition_cut(&[4, 4, 4]), None);
    }
}
