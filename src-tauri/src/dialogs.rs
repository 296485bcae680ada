//! The native dialogs ("Add…", a schema file, "Save as"), shown by the shell so that the web
//! view never names a path it was not given.
//!
//! The end-to-end tests cannot click a GTK dialog through WebDriver, so these variables answer
//! a dialog without showing it: `PAGEWISE_PICK` (paths, separated like `$PATH`),
//! `PAGEWISE_PICK_SCHEMA`, `PAGEWISE_PICK_MODEL` and `PAGEWISE_SAVE_TO`. Everything after the
//! dialog is the real path.

use std::path::PathBuf;

use tauri_plugin_dialog::{DialogExt, FilePath};

fn answered(var: &str) -> Option<Vec<PathBuf>> {
    std::env::var_os(var).map(|v| std::env::split_paths(&v).collect())
}

fn paths(picked: Option<Vec<FilePath>>) -> Vec<PathBuf> {
    picked.unwrap_or_default().into_iter().filter_map(|f| f.into_path().ok()).collect()
}

type Done = Box<dyn FnOnce(Option<Vec<FilePath>>) + Send>;

/// The paths a dialog answers: from the test variable `var` when it is set, else from the
/// dialog that `show` opens (it calls `Done` when the person closes it).
async fn answer(var: &str, show: impl FnOnce(Done)) -> Vec<PathBuf> {
    if let Some(p) = answered(var) {
        return p;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    show(Box::new(move |f| drop(tx.send(f))));
    paths(rx.await.unwrap_or(None))
}

fn one(done: Done) -> impl FnOnce(Option<FilePath>) + Send + 'static {
    move |f| done(f.map(|f| vec![f]))
}

/// Documents to add: several files, or one folder.
pub async fn pick_documents(window: &tauri::Window, folder: bool) -> Vec<PathBuf> {
    answer("PAGEWISE_PICK", |done| {
        let dialog = window.dialog().file().set_parent(window).set_title("Add documents");
        match folder {
            true => dialog.pick_folder(one(done)),
            false => {
                dialog.add_filter("Documents", &["pdf", "png", "jpg", "jpeg", "tif", "tiff", "webp"]).pick_files(done)
            }
        }
    })
    .await
}

/// A model folder to import (a hub snapshot); the test variable may name several.
pub async fn pick_model_folders(window: &tauri::Window) -> Vec<PathBuf> {
    answer("PAGEWISE_PICK_MODEL", |done| {
        window.dialog().file().set_parent(window).set_title("Import a model folder").pick_folder(one(done))
    })
    .await
}

pub async fn pick_schema(window: &tauri::Window) -> Option<PathBuf> {
    answer("PAGEWISE_PICK_SCHEMA", |done| {
        window
            .dialog()
            .file()
            .set_parent(window)
            .set_title("Open a schema")
            .add_filter("Schema (TOML)", &["toml"])
            .pick_file(one(done))
    })
    .await
    .into_iter()
    .next()
}

/// Where to save an export (`csv` or `json`).
pub async fn save_as(window: &tauri::Window, format: &str) -> Option<PathBuf> {
    answer("PAGEWISE_SAVE_TO", |done| {
        let dialog = window.dialog().file().set_parent(window).set_title("Export fields");
        dialog
            .set_file_name(format!("fields.{format}"))
            .add_filter(format.to_uppercase(), &[format])
            .save_file(one(done))
    })
    .await
    .into_iter()
    .next()
}
