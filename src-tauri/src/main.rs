//! Pagewise desktop shell (Tauri 2). Thin: each command opens the library, calls the engine on
//! a blocking thread and maps errors to `{kind, message}`. The full application (drop zone,
//! viewer, ask, fields, jobs) is built on these in a later stage.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;

use pagewise_engine::{index, Document, ErrorReport, Library};

struct LibraryDir(PathBuf);

/// Run engine work off the UI thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> pagewise_engine::Result<T> + Send + 'static) -> Result<T, ErrorReport> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ErrorReport { kind: "internal".into(), message: e.to_string() })?.map_err(|e| e.to_report())
}

#[tauri::command]
async fn list_documents(dir: tauri::State<'_, LibraryDir>) -> Result<Vec<Document>, ErrorReport> {
    let dir = dir.0.clone();
    blocking(move || Library::open(&dir)?.documents()).await
}

#[tauri::command]
async fn search(dir: tauri::State<'_, LibraryDir>, query: String) -> Result<Vec<index::SearchHit>, ErrorReport> {
    let dir = dir.0.clone();
    blocking(move || index::search(&Library::open(&dir)?, &query, 50)).await
}

fn main() {
    let dir = match Library::default_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        .manage(LibraryDir(dir))
        .invoke_handler(tauri::generate_handler![list_documents, search])
        .run(tauri::generate_context!())
        .expect("the Pagewise window could not start");
}
