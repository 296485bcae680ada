//! Models that people download themselves from the Hugging Face hub (the vision-language
//! readers): their manifests under `models/hub/`, and whether each is installed.
//!
//! An installed model is a folder `<models>/hub/<id>/` holding its files and a receipt
//! (`pagewise-model.json`) that records the commit and the sha256 of every file. The receipt is
//! written last, inside a staging folder that is renamed into place, so a folder without one is
//! never loaded (see `install`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const MANIFESTS: [(&str, &str); 2] = [
    ("qwen3-vl-2b-instruct", include_str!("../../../../models/hub/qwen3-vl-2b-instruct.toml")),
    ("paddleocr-vl", include_str!("../../../../models/hub/paddleocr-vl.toml")),
];

/// The receipt's file name inside an installed model's folder.
pub const RECEIPT: &str = "pagewise-model.json";

/// One hub model as its manifest describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HubModel {
    pub id: String,
    /// `owner/name` on the hub.
    pub repo: String,
    /// The pinned commit (40 hex digits), or empty while the manifest is not pinned yet.
    #[serde(default)]
    pub revision: String,
    /// `model_type` in the model's config.json; an import is recognised by it.
    pub model_type: String,
    pub purpose: String,
    pub licence: String,
    pub approx_bytes: u64,
    pub min_memory_gb: u32,
    pub files: Vec<FileSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FileSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl HubModel {
    pub fn parse(id: &str, toml_text: &str) -> Result<HubModel> {
        let model: HubModel = toml::from_str(toml_text)
            .map_err(|e| Error::Model { model: id.into(), detail: format!("manifest: {e}") })?;
        if model.files.is_empty() {
            return Err(Error::Model { model: id.into(), detail: "manifest lists no files".into() });
        }
        Ok(model)
    }

    pub fn is_pinned(&self) -> bool {
        self.revision.len() == 40 && self.revision.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The pinned commit, shortened, or "unpinned".
    pub fn version_label(&self) -> String {
        if self.is_pinned() {
            self.revision[..8].to_string()
        } else {
            "unpinned".into()
        }
    }
}

/// What an installed model's receipt records.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Receipt {
    pub id: String,
    pub repo: String,
    /// The commit the files came from ("import" for an offline import without one).
    pub revision: String,
    /// Where the expected checksums came from: "manifest", "hub" (unpinned get) or "import".
    pub checked_against: String,
    pub files: Vec<FileSpec>,
}

/// Every hub model Pagewise knows.
pub fn hub_models() -> Vec<HubModel> {
    MANIFESTS.iter().map(|(id, text)| HubModel::parse(id, text).expect("models/hub manifests are valid")).collect()
}

pub fn hub_model(id: &str) -> Result<HubModel> {
    hub_models().into_iter().find(|m| m.id == id).ok_or_else(|| Error::Model {
        model: id.into(),
        detail: format!(
            "no such model; known: {}",
            hub_models().iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// `<models>/hub`, where downloaded models live.
pub fn hub_dir(models_dir: &Path) -> PathBuf {
    models_dir.join("hub")
}

/// The receipt of an installed model, if its folder has one.
pub fn receipt(models_dir: &Path, id: &str) -> Option<Receipt> {
    let text = std::fs::read_to_string(hub_dir(models_dir).join(id).join(RECEIPT)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The folder of an installed model whose files are all present with their recorded sizes, or
/// `ModelMissing` (downloadable). (Checksums: `verify`.)
pub fn installed_dir(models_dir: &Path, model: &HubModel) -> Result<PathBuf> {
    let dir = hub_dir(models_dir).join(&model.id);
    let missing = || Error::ModelMissing { model: model.id.clone(), path: dir.clone(), downloadable: true };
    let receipt = receipt(models_dir, &model.id).ok_or_else(missing)?;
    for file in &receipt.files {
        let len = std::fs::metadata(dir.join(&file.name)).map(|m| m.len()).ok();
        if len.is_none() || (file.size.is_some() && len != file.size) {
            return Err(Error::ModelDamaged { model: model.id.clone(), file: file.name.clone() });
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_name_the_files_a_model_needs() {
        for m in hub_models() {
            assert!(m.repo.contains('/'), "{}", m.id);
            assert!(
                m.files.iter().any(|f| f.name == "config.json")
                    && m.files.iter().any(|f| f.name.ends_with(".safetensors"))
            );
            assert!(m.revision.is_empty() || m.is_pinned(), "{}: revision must be a commit", m.id);
        }
    }

    #[test]
    fn a_model_without_receipt_is_missing_and_downloadable() {
        let dir = tempfile::tempdir().unwrap();
        let model = hub_model("qwen3-vl-2b-instruct").unwrap();
        std::fs::create_dir_all(hub_dir(dir.path()).join(&model.id)).unwrap();
        std::fs::write(hub_dir(dir.path()).join(&model.id).join("config.json"), "{}").unwrap();
        let err = installed_dir(dir.path(), &model).unwrap_err();
        assert_eq!(err.kind(), "model_missing");
        assert!(matches!(err, Error::ModelMissing { downloadable: true, .. }), "{err}");
        assert!(hub_model("nope").is_err());
    }
}
