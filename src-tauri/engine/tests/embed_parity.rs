//! Parity of the sentence embedder (all-MiniLM-L6-v2 on candle-transformers' BertModel) with
//! the reference forward pass of `scripts/embed_reference.py` (numpy BERT, Hugging Face
//! tokenizers), whose outputs are committed in tests/fixtures/embed/expected.json. Skips visibly
//! when the model is not installed.

use std::path::Path;

use pagewise_engine::embed::model::{cosine, Embedder, DIMS};
use serde_json::Value;

#[test]
fn embeddings_match_the_reference() {
    let embedder = match Embedder::get() {
        Ok(e) => e,
        Err(e) => {
            println!("SKIP embedding parity: {e}");
            return;
        }
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/embed/expected.json");
    let expected: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let items = expected["texts"].as_array().unwrap();
    let texts: Vec<&str> = items.iter().map(|t| t["text"].as_str().unwrap()).collect();
    // All at once: texts of different lengths share a padded batch, which must not change them.
    let ours = embedder.lock().unwrap().embed(&texts).unwrap();
    for (item, got) in items.iter().zip(&ours) {
        let want: Vec<f32> = item["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(got.len(), DIMS);
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 2e-4, "{:?}: largest difference {worst}", item["text"]);
        assert!(cosine(got, &want) > 0.9999, "{:?}", item["text"]);
    }
    // What the answerer relies on: a label that means the question is near it.
    let sim = |a: usize, b: usize| cosine(&ours[a], &ours[b]);
    assert!(sim(0, 1) > sim(0, 3), "'Amount due' is nearer the total question than 'Rechnungsdatum'");
}

#[test]
fn one_text_alone_and_in_a_batch_embed_the_same() {
    let Ok(embedder) = Embedder::get() else {
        println!("SKIP embedding batching: model not installed");
        return;
    };
    let e = embedder.lock().unwrap();
    let alone = e.embed(&["Total"]).unwrap();
    let batched = e.embed(&["Total", "a much longer text that pads the short one in its batch"]).unwrap();
    assert!(cosine(&alone[0], &batched[0]) > 0.99999);
}
