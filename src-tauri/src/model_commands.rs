//! The Models panel: every model and whether it is installed, and the actions on the
//! downloadable ones: download (progress through a Channel, cancellable by its job), verify,
//! remove, and import a model folder picked in a dialog. Each is a few lines over the engine's
//! model manager, which checks every file before installing. The vision-language models loaded
//! in this session are kept here ([`Loaded`]).

use std::sync::{Mutex, MutexGuard};

use pagewise_engine::models::{self, hub, install};
use pagewise_engine::{PaddleOcrVl, Precision, Vlm, VISUAL_MODEL};
use tauri::ipc::Channel;
use tauri::State;

use crate::reply::{blocking, Reply};
use crate::views::{FileCheckView, ModelProgress, ModelView};
use crate::{dialogs, App};

/// The vision-language models loaded in this session (gigabytes each, so loaded on first use),
/// with the precision each was loaded at: Qwen3-VL answers questions, PaddleOCR-VL reads pages.
#[derive(Default)]
pub struct Loaded {
    pub answerer: Mutex<Option<(Precision, Vlm)>>,
    pub reader: Mutex<Option<(Precision, PaddleOcrVl)>>,
}

impl Loaded {
    /// Let both models go when model files change (or go), so that the next use loads what is
    /// installed now. (Called off the async threads: a model at work is let go when it is done.)
    pub fn forget(&self) {
        *self.answerer.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.reader.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Qwen3-VL, the answerer, at `precision` (see [`Loaded::get`]).
    pub fn answerer(&self, precision: Precision) -> pagewise_engine::Result<Held<'_, Vlm>> {
        Loaded::get(&self.answerer, &self.reader, precision, |p| Vlm::load_installed(VISUAL_MODEL, p))
    }

    /// PaddleOCR-VL, the reader, at `precision` (see [`Loaded::get`]).
    pub fn reader(&self, precision: Precision) -> pagewise_engine::Result<Held<'_, PaddleOcrVl>> {
        Loaded::get(&self.reader, &self.answerer, precision, PaddleOcrVl::load_installed)
    }

    /// One model at `precision`, loaded if it is not (or was at another precision), after
    /// letting the other go when it is idle: one multi-gigabyte model in memory at a time.
    fn get<'a, T>(
        slot: &'a Mutex<Option<(Precision, T)>>,
        other: &Mutex<Option<impl Sized>>,
        precision: Precision,
        load: impl FnOnce(Precision) -> pagewise_engine::Result<T>,
    ) -> pagewise_engine::Result<Held<'a, T>> {
        let mut held = slot.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_none_or(|(p, _)| *p != precision) {
            *held = None;
            if let Ok(mut other) = other.try_lock() {
                *other = None;
            }
            *held = Some((precision, load(precision)?));
        }
        Ok(Held(held))
    }
}

/// A loaded model, held for one use (the others wait).
pub struct Held<'a, T>(MutexGuard<'a, Option<(Precision, T)>>);

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.as_ref().expect("Loaded::get loads it").1
    }
}

impl<T> std::ops::DerefMut for Held<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0.as_mut().expect("Loaded::get loads it").1
    }
}

/// Download a model from the hub. An unpinned manifest's files are checked against the hub's
/// own checksums for its current commit (the panel says so before starting).
#[tauri::command]
pub async fn model_get(app: State<'_, App>, name: String, job: u32, progress: Channel<ModelProgress>) -> Reply<String> {
    let (guard, loaded) = (app.jobs.start(job), app.loaded.clone());
    blocking(move || {
        loaded.forget();
        let model = hub::hub_model(&name)?;
        let unpinned = !model.is_pinned();
        let path = install::get(&models::models_dir(), &model, unpinned, &guard.flag, &mut |p| {
            let _ = progress.send(ModelProgress { file: p.file.clone(), done: p.done, total: p.total });
        })?;
        Ok(path.display().to_string())
    })
    .await
}

/// Re-check an installed model's files against the checksums recorded when it was installed.
#[tauri::command]
pub async fn model_verify(name: String) -> Reply<Vec<FileCheckView>> {
    blocking(move || {
        let checks = install::verify(&models::models_dir(), &hub::hub_model(&name)?)?;
        Ok(checks.into_iter().map(|c| FileCheckView { file: c.file, ok: c.ok, detail: c.detail }).collect())
    })
    .await
}

#[tauri::command]
pub async fn model_remove(app: State<'_, App>, name: String) -> Reply<bool> {
    let loaded = app.loaded.clone();
    blocking(move || {
        loaded.forget();
        hub::hub_model(&name)?;
        install::remove(&models::models_dir(), &name)
    })
    .await
}

/// Install a model from a folder picked in a dialog (a hub snapshot copied from elsewhere);
/// where it went, or nothing when the dialog was closed.
#[tauri::command]
pub async fn model_import(window: tauri::Window, app: State<'_, App>) -> Reply<Vec<String>> {
    let folders = dialogs::pick_model_folders(&window).await;
    let loaded = app.loaded.clone();
    blocking(move || {
        loaded.forget();
        let known = hub::hub_models();
        folders
            .iter()
            .map(|f| Ok(install::import(&models::models_dir(), f, None, &known)?.display().to_string()))
            .collect()
    })
    .await
}

/// Every model of the manifests, and whether it is installed here.
#[tauri::command]
pub fn models() -> Vec<ModelView> {
    let dir = models::models_dir();
    let bundled = models::manifest().into_iter().map(|m| {
        let found = models::model_file(&m.name).ok();
        let bytes = found.as_ref().and_then(|p| std::fs::metadata(p).ok()).map(|md| md.len());
        ModelView {
            installed: bytes.is_some(),
            bytes,
            path: found.unwrap_or_else(|| dir.join(&m.file)).display().to_string(),
            fetch: "bash scripts/dev.sh models".into(),
            name: m.name,
            task: m.task,
            package: m.package,
            version: m.version,
            licence: m.licence,
            source: m.source,
            optional: false,
        }
    });
    let downloadable = hub::hub_models().into_iter().map(|m| {
        let installed = hub::installed_dir(&dir, &m).ok();
        let unpinned = if m.is_pinned() { "" } else { " --unpinned" };
        ModelView {
            installed: installed.is_some(),
            bytes: Some(m.approx_bytes),
            path: hub::hub_dir(&dir).join(&m.id).display().to_string(),
            fetch: format!(
                "pagewise models get {}{unpinned}  (offline: pagewise models import FOLDER_OR_ARCHIVE)",
                m.id
            ),
            task: format!("{} (needs {} GB of memory)", m.purpose, m.min_memory_gb),
            package: m.repo.clone(),
            version: m.version_label(),
            source: format!("https://huggingface.co/{}", m.repo),
            name: m.id,
            licence: m.licence,
            optional: true,
        }
    });
    bundled.chain(downloadable).collect()
}
