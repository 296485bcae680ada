//! The Models panel's actions on the downloadable models: download (progress through a Channel,
//! cancellable by its job), verify, remove, and import a model folder picked in a dialog. Each
//! is a few lines over the engine's model manager, which checks every file before installing.

use pagewise_engine::models::{self, hub, install};
use pagewise_engine::ErrorReport;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::blocking;
use crate::views::{FileCheckView, ModelProgress};
use crate::{dialogs, App};

type Reply<T> = Result<T, ErrorReport>;

type Loaded = std::sync::Arc<std::sync::Mutex<Option<pagewise_engine::vlm::Vlm>>>;

/// The loaded vision-language model is let go when its files change (or go), so that the next
/// question loads what is installed now. (Called off the async threads: a question being
/// answered holds the model until it is done.)
fn forget_loaded(loaded: &Loaded) {
    *loaded.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Download a model from the hub. An unpinned manifest's files are checked against the hub's
/// own checksums for its current commit (the panel says so before starting).
#[tauri::command]
pub async fn model_get(app: State<'_, App>, name: String, job: u32, progress: Channel<ModelProgress>) -> Reply<String> {
    let (guard, loaded) = (app.jobs.start(job), app.vlm.clone());
    blocking(move || {
        forget_loaded(&loaded);
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
    let loaded = app.vlm.clone();
    blocking(move || {
        forget_loaded(&loaded);
        hub::hub_model(&name)?;
        install::remove(&models::models_dir(), &name)
    })
    .await
}

/// Install a model from a folder picked in a dialog (a hub snapshot copied from elsewhere).
#[tauri::command]
pub async fn model_import(window: tauri::Window, app: State<'_, App>) -> Reply<Option<String>> {
    let Some(folder) = dialogs::pick_model_folder(&window).await else { return Ok(None) };
    let loaded = app.vlm.clone();
    blocking(move || {
        forget_loaded(&loaded);
        Ok(Some(install::import(&models::models_dir(), &folder, None, &hub::hub_models())?.display().to_string()))
    })
    .await
}
