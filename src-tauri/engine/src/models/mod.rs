//! The local model store. Weights are never in the repository. The small models (layout, OCR,
//! embeddings) come from pinned registry packages named in `models/manifest.json` (sha256
//! checked) and are found where [`crate::places`] says: `$PAGEWISE_MODELS`, a `models/` folder
//! beside the executable or in its installation, or the user's data directory.
//!
//! The large vision-language models are not in a registry package: people download them from
//! the Hugging Face hub when they ask for them (`hub`, `fetch`, `install`; `pagewise models`),
//! into [`models_dir`].

use std::path::PathBuf;

use serde::Deserialize;

use crate::{Error, Result};

pub mod fetch;
pub mod hub;
pub mod install;

pub use hub::{hub_model, hub_models, HubModel};

const MANIFEST: &str = include_str!("../../../../models/manifest.json");

/// One entry of `models/manifest.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub task: String,
    pub file: String,
    pub sha256: String,
    pub package: String,
    pub version: String,
    pub licence: String,
    pub source: String,
}

#[derive(Deserialize)]
struct Manifest {
    models: Vec<ModelSpec>,
}

/// Every model the manifest lists.
pub fn manifest() -> Vec<ModelSpec> {
    serde_json::from_str::<Manifest>(MANIFEST).expect("models/manifest.json is valid").models
}

pub fn spec(name: &str) -> ModelSpec {
    manifest()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("model {name} is not in models/manifest.json"))
}

/// Where downloaded models go and installed ones are looked for first: `$PAGEWISE_MODELS`, else
/// `models/` in the user's data directory.
pub fn models_dir() -> PathBuf {
    crate::places::from_env("PAGEWISE_MODELS")
        .or_else(|| crate::places::user_data_dir().map(|d| d.join("models")))
        .unwrap_or_else(|| PathBuf::from("models"))
}

/// Folders that may hold the small models, in the order they are looked in: [`models_dir`],
/// then `models/` beside the executable (an installed package's).
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![models_dir()];
    dirs.extend(crate::places::beside_executable("models"));
    dirs
}

/// The path of an installed model's file, found in the first of [`search_dirs`] that has it, or
/// `ModelMissing`.
pub fn model_file(name: &str) -> Result<PathBuf> {
    let spec = spec(name);
    let found = search_dirs().into_iter().map(|d| d.join(&spec.file)).find(|p| p.is_file());
    found.ok_or_else(|| Error::ModelMissing {
        model: name.to_string(),
        path: models_dir().join(&spec.file),
        downloadable: false,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifest_entries_are_complete() {
        for m in super::manifest() {
            assert_eq!(m.sha256.len(), 64, "{}", m.name);
            assert!(!m.licence.is_empty() && !m.version.is_empty() && !m.package.is_empty());
        }
    }
}
