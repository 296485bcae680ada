//! Qwen3-VL's config.json, read as transformers writes it (both the 4.x `rope_scaling` +
//! `rope_theta` keys and the 5.x `rope_parameters`).

use serde::Deserialize;

use crate::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub model_type: String,
    pub text_config: TextConfig,
    pub vision_config: VisionConfig,
    pub image_token_id: u32,
    pub vision_start_token_id: u32,
    pub vision_end_token_id: u32,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RopeParameters {
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub mrope_section: Option<Vec<usize>>,
    #[serde(default)]
    pub rope_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    #[serde(default)]
    pub rope_scaling: Option<RopeParameters>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VisionConfig {
    pub depth: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_heads: usize,
    #[serde(default = "three")]
    pub in_channels: usize,
    pub patch_size: usize,
    pub spatial_merge_size: usize,
    pub temporal_patch_size: usize,
    pub out_hidden_size: usize,
    pub num_position_embeddings: usize,
    #[serde(default)]
    pub deepstack_visual_indexes: Vec<usize>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
}

fn three() -> usize {
    3
}

impl Config {
    /// Parses config.json, saying which model and which key when it does not fit.
    pub fn parse(model: &str, text: &str) -> Result<Config> {
        let config: Config = serde_json::from_str(text).map_err(|e| Error::Model {
            model: model.into(),
            detail: format!(
                "config.json does not describe a Qwen3-VL model this version reads ({e}); \
                 a newer model version may need a newer Pagewise"
            ),
        })?;
        if !config.model_type.is_empty() && config.model_type != "qwen3_vl" {
            return Err(Error::Model {
                model: model.into(),
                detail: format!("config.json is for '{}', not qwen3_vl", config.model_type),
            });
        }
        let t = &config.text_config;
        let sections: usize = config.mrope_section().iter().sum();
        if sections * 2 != t.head_dim || t.num_attention_heads % t.num_key_value_heads != 0 {
            return Err(Error::Model {
                model: model.into(),
                detail: format!("inconsistent config: mrope_section sums to {sections}, head_dim is {}", t.head_dim),
            });
        }
        if let Some(kind) = config.rope().rope_type.as_deref().filter(|k| *k != "default") {
            return Err(Error::Model {
                model: model.into(),
                detail: format!("rope type '{kind}' is not supported (only 'default')"),
            });
        }
        Ok(config)
    }

    fn rope(&self) -> RopeParameters {
        let t = &self.text_config;
        t.rope_parameters.clone().or_else(|| t.rope_scaling.clone()).unwrap_or(RopeParameters {
            rope_theta: None,
            mrope_section: None,
            rope_type: None,
        })
    }

    pub fn rope_theta(&self) -> f64 {
        self.rope().rope_theta.or(self.text_config.rope_theta).unwrap_or(5_000_000.0)
    }

    pub fn mrope_section(&self) -> Vec<usize> {
        self.rope().mrope_section.unwrap_or_else(|| vec![24, 20, 20])
    }

    pub fn tie_word_embeddings(&self) -> bool {
        self.text_config.tie_word_embeddings.or(self.tie_word_embeddings).unwrap_or(false)
    }

    pub fn vision_rope_theta(&self) -> f64 {
        self.vision_config.rope_parameters.as_ref().and_then(|r| r.rope_theta).unwrap_or(10_000.0)
    }
}
