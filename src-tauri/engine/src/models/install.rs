//! Installing, checking and removing hub models.
//!
//! Files are gathered in `<models>/hub/.staging/<id>/` (partial downloads stay there, so a second
//! `get` resumes them), each is checked against its expected checksum, the receipt is written,
//! and only then is the staging folder renamed to `<models>/hub/<id>/`. A broken or interrupted
//! install therefore never leaves a folder that loads.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use sha1::Digest as _;

use super::fetch;
use super::hub::{hub_dir, FileSpec, HubModel, Receipt, RECEIPT};
use crate::{Error, Result};

/// Progress of a `get`: the file being fetched, its bytes, and the whole model's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct GetProgress {
    pub file: String,
    pub file_done: u64,
    pub file_total: Option<u64>,
    pub done: u64,
    pub total: u64,
}

/// What a file must hash to.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    Sha256(String),
    /// The hub's git blob id for small (non-LFS) files.
    GitBlob(String),
}

fn staging_dir(models_dir: &Path, id: &str) -> PathBuf {
    hub_dir(models_dir).join(".staging").join(id)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// sha256 and git-blob sha1 of a file, read once.
fn hash_file(path: &Path) -> Result<(String, String, u64)> {
    let mut file = std::fs::File::open(path).map_err(io_error(path))?;
    let len = file.metadata().map_err(io_error(path))?.len();
    let mut sha256 = sha2::Sha256::new();
    let mut blob = sha1::Sha1::new();
    blob.update(format!("blob {len}\0").as_bytes());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut sha256, &buf[..n]);
        blob.update(&buf[..n]);
    }
    Ok((hex(&sha2::Digest::finalize(sha256)), hex(&blob.finalize()), len))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a staged file; a file that fails is removed so that the next attempt starts clean.
fn check_file(model: &str, path: &Path, name: &str, expected: Option<&Expected>) -> Result<FileSpec> {
    let (sha256, blob, size) = hash_file(path)?;
    let bad = match expected {
        Some(Expected::Sha256(want)) if !want.eq_ignore_ascii_case(&sha256) => {
            Some((want.clone(), sha256.clone(), "sha256"))
        }
        Some(Expected::GitBlob(want)) if !want.eq_ignore_ascii_case(&blob) => Some((want.clone(), blob, "git blob id")),
        _ => None,
    };
    if let Some((want, got, what)) = bad {
        let _ = std::fs::remove_file(path);
        return Err(Error::Model {
            model: model.into(),
            detail: format!(
                "{name}: checksum mismatch ({what} expected {want}, got {got}); \
                 the file was removed, nothing was installed"
            ),
        });
    }
    Ok(FileSpec { name: name.into(), size: Some(size), sha256: Some(sha256) })
}

/// Writes the receipt into the staging folder and renames it into place, replacing an older
/// install of the same model only once the new one is complete.
fn commit_install(models_dir: &Path, staging: &Path, receipt: &Receipt) -> Result<PathBuf> {
    let receipt_path = staging.join(RECEIPT);
    std::fs::write(&receipt_path, serde_json::to_string_pretty(receipt).expect("receipt serialises"))
        .map_err(io_error(&receipt_path))?;
    let target = hub_dir(models_dir).join(&receipt.id);
    let old = hub_dir(models_dir).join(".staging").join(format!("{}.old", receipt.id));
    if target.exists() {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&target, &old).map_err(io_error(&target))?;
    }
    std::fs::rename(staging, &target).map_err(io_error(&target))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(target)
}

/// Downloads a model from the hub. An unpinned manifest needs `unpinned` (the person accepts the
/// hub's current commit; files are then checked against the hub's own checksums for it).
pub fn get(
    models_dir: &Path,
    model: &HubModel,
    unpinned: bool,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(&GetProgress),
) -> Result<PathBuf> {
    if !model.is_pinned() && !unpinned {
        return Err(Error::ModelUnpinned { model: model.id.clone() });
    }
    let revision = if model.is_pinned() { model.revision.as_str() } else { "main" };
    let info = fetch::repo_info(&model.id, &model.repo, revision)?;
    let mut plan = Vec::new();
    for spec in &model.files {
        let sibling = info.siblings.iter().find(|s| s.rfilename == spec.name);
        let Some(sibling) = sibling else {
            return Err(Error::Model {
                model: model.id.clone(),
                detail: format!("{} is not in {}@{}", spec.name, model.repo, info.sha),
            });
        };
        let hub_size = sibling.lfs.as_ref().map(|l| l.size).or(sibling.size);
        let hub_expected = match (&sibling.lfs, &sibling.blob_id) {
            (Some(lfs), _) => Some(Expected::Sha256(lfs.sha256.clone())),
            (None, Some(blob)) => Some(Expected::GitBlob(blob.clone())),
            _ => None,
        };
        let expected = match &spec.sha256 {
            Some(pinned) => {
                if let Some(Expected::Sha256(hub)) = &hub_expected {
                    if !hub.eq_ignore_ascii_case(pinned) {
                        return Err(Error::Model {
                            model: model.id.clone(),
                            detail: format!(
                                "{}: the hub's sha256 {hub} differs from the pinned {pinned}; not downloading",
                                spec.name
                            ),
                        });
                    }
                }
                Some(Expected::Sha256(pinned.clone()))
            }
            None => hub_expected,
        };
        if expected.is_none() {
            return Err(Error::Model {
                model: model.id.clone(),
                detail: format!(
                    "{}: neither the manifest nor the hub gives a checksum; refusing an unchecked file",
                    spec.name
                ),
            });
        }
        plan.push((spec.name.clone(), spec.size.or(hub_size), expected));
    }

    let staging = staging_dir(models_dir, &model.id);
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    let total: u64 = plan.iter().filter_map(|(_, size, _)| *size).sum();
    let mut finished = 0u64;
    let mut files = Vec::new();
    for (name, size, expected) in &plan {
        let path = staging.join(name);
        let part = staging.join(format!("{name}.part"));
        if !path.exists() {
            let mut on_bytes = |file_done: u64, file_total: Option<u64>| {
                on_progress(&GetProgress {
                    file: name.clone(),
                    file_done,
                    file_total,
                    done: finished + file_done,
                    total,
                });
            };
            fetch::download(&model.id, &model.repo, &info.sha, name, *size, &part, cancel, &mut on_bytes)?;
            std::fs::rename(&part, &path).map_err(io_error(&path))?;
        }
        let spec = check_file(&model.id, &path, name, expected.as_ref())?;
        finished += spec.size.unwrap_or(0);
        on_progress(&GetProgress {
            file: name.clone(),
            file_done: spec.size.unwrap_or(0),
            file_total: spec.size,
            done: finished,
            total,
        });
        files.push(spec);
    }
    let checked_against =
        if model.is_pinned() && model.files.iter().all(|f| f.sha256.is_some()) { "manifest" } else { "hub" };
    let receipt = Receipt {
        id: model.id.clone(),
        repo: model.repo.clone(),
        revision: info.sha.clone(),
        checked_against: checked_against.into(),
        files,
    };
    commit_install(models_dir, &staging, &receipt)
}

/// Installs a model from a folder (a hub snapshot, say) or a `.tar`, `.tar.gz` or `.zip` of one,
/// for machines without internet. `id` names the model; without it the folder's config.json
/// `model_type` decides.
pub fn import(models_dir: &Path, source: &Path, id: Option<&str>, models: &[HubModel]) -> Result<PathBuf> {
    if !source.exists() {
        return Err(Error::NotFound { path: source.to_path_buf() });
    }
    let scratch = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(ensure_dir(&hub_dir(models_dir))?)
        .map_err(io_error(models_dir))?;
    let folder = if source.is_dir() { source.to_path_buf() } else { unpack(source, scratch.path())? };
    let root = find_config_dir(&folder).ok_or_else(|| Error::Model {
        model: source.display().to_string(),
        detail: "no config.json inside; is this a model folder?".into(),
    })?;
    // An archive's files must be its own: a link in it to a file elsewhere on this machine
    // would be installed as a model file (seen while writing the fuzzing harness's archive
    // target). A folder's links are followed, as a hub snapshot's point into the hub's blobs.
    if !source.is_dir() {
        let names = std::iter::once("config.json").chain(model_files(models));
        if let Some(name) = names.map(|n| root.join(n)).find(|p| p.exists() && !inside(p, scratch.path())) {
            return Err(Error::Model {
                model: source.display().to_string(),
                detail: format!("{} in the archive links outside it", name.display()),
            });
        }
    }
    let config_path = root.join("config.json");
    let config: serde_json::Value =
        std::fs::read_to_string(&config_path).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            Error::Model { model: source.display().to_string(), detail: "config.json is not valid JSON".into() }
        })?;
    let model_type = config.get("model_type").and_then(|v| v.as_str()).unwrap_or_default();
    let model = match id {
        Some(id) => models.iter().find(|m| m.id == id),
        None => models.iter().find(|m| m.model_type == model_type),
    }
    .ok_or_else(|| Error::Model {
        model: source.display().to_string(),
        detail: format!("config.json says model_type '{model_type}', which no known model has (pass the model's name)"),
    })?;
    if model.model_type != model_type {
        return Err(Error::Model {
            model: model.id.clone(),
            detail: format!("config.json says model_type '{model_type}', expected '{}'", model.model_type),
        });
    }

    let staging = staging_dir(models_dir, &model.id);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    let mut files = Vec::new();
    for spec in &model.files {
        let from = root.join(&spec.name);
        if !from.is_file() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(Error::Model {
                model: model.id.clone(),
                detail: format!("{} is missing from {}", spec.name, root.display()),
            });
        }
        let to = staging.join(&spec.name);
        std::fs::copy(&from, &to).map_err(io_error(&from))?;
        match check_file(&model.id, &to, &spec.name, spec.sha256.clone().map(Expected::Sha256).as_ref()) {
            Ok(file) => files.push(file),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        }
    }
    let pinned = model.files.iter().all(|f| f.sha256.is_some());
    let receipt = Receipt {
        id: model.id.clone(),
        repo: model.repo.clone(),
        revision: if model.is_pinned() { model.revision.clone() } else { "import".into() },
        checked_against: if pinned { "manifest" } else { "import" }.into(),
        files,
    };
    commit_install(models_dir, &staging, &receipt)
}

/// Every file name the known models list.
fn model_files(models: &[HubModel]) -> impl Iterator<Item = &str> {
    models.iter().flat_map(|m| m.files.iter().map(|f| f.name.as_str()))
}

/// Whether `path`, links followed, lies inside `dir`.
fn inside(path: &Path, dir: &Path) -> bool {
    matches!((path.canonicalize(), dir.canonicalize()), (Ok(p), Ok(d)) if p.starts_with(&d))
}

fn ensure_dir(dir: &Path) -> Result<&Path> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    Ok(dir)
}

/// The folder holding config.json: the folder itself or one level down (an archive's top folder).
fn find_config_dir(folder: &Path) -> Option<PathBuf> {
    if folder.join("config.json").is_file() {
        return Some(folder.to_path_buf());
    }
    std::fs::read_dir(folder).ok()?.flatten().map(|e| e.path()).find(|p| p.join("config.json").is_file())
}

fn unpack(archive: &Path, into: &Path) -> Result<PathBuf> {
    let name = archive.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    let file = std::fs::File::open(archive).map_err(io_error(archive))?;
    let bad = |e: &dyn std::fmt::Display| Error::Corrupt {
        path: archive.to_path_buf(),
        format: "model archive",
        detail: e.to_string(),
    };
    if name.ends_with(".zip") {
        zip::ZipArchive::new(file).and_then(|mut z| z.extract(into)).map_err(|e| bad(&e))?;
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        tar::Archive::new(flate2::read::GzDecoder::new(file)).unpack(into).map_err(|e| bad(&e))?;
    } else if name.ends_with(".tar") {
        tar::Archive::new(file).unpack(into).map_err(|e| bad(&e))?;
    } else {
        return Err(Error::UnsupportedType {
            path: archive.to_path_buf(),
            detail: "a model import is a folder, .tar, .tar.gz or .zip".into(),
        });
    }
    Ok(into.to_path_buf())
}

/// One file's state after `verify`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    pub file: String,
    pub ok: bool,
    pub detail: String,
}

/// Re-hashes an installed model's files against its receipt.
pub fn verify(models_dir: &Path, model: &HubModel) -> Result<Vec<FileCheck>> {
    let dir = hub_dir(models_dir).join(&model.id);
    let receipt = super::hub::receipt(models_dir, &model.id).ok_or_else(|| Error::ModelMissing {
        model: model.id.clone(),
        path: dir.clone(),
        downloadable: true,
    })?;
    Ok(receipt
        .files
        .iter()
        .map(|spec| {
            let path = dir.join(&spec.name);
            let (ok, detail) = match hash_file(&path) {
                Err(e) => (false, e.to_string()),
                Ok((sha256, _, _)) if Some(&sha256) == spec.sha256.as_ref() => (true, "ok".into()),
                Ok((sha256, _, _)) => {
                    (false, format!("sha256 {sha256}, expected {}", spec.sha256.as_deref().unwrap_or("?")))
                }
            };
            FileCheck { file: spec.name.clone(), ok, detail }
        })
        .collect())
}

/// Removes an installed model and any partial download of it. Returns whether anything was there.
pub fn remove(models_dir: &Path, id: &str) -> Result<bool> {
    let mut removed = false;
    for dir in [hub_dir(models_dir).join(id), staging_dir(models_dir, id)] {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
            removed = true;
        }
    }
    Ok(removed)
}
