//! Pagewise desktop shell (Tauri 2): a window over the engine. The commands are thin
//! (`commands`); page images come through the `page:` protocol (`pages`); the files the UI may
//! import are the ones the person dropped or picked (`grants`); long work can be cancelled
//! (`jobs`). The web view gets no file system, shell or network access.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod dialogs;
mod field_commands;
mod grants;
mod jobs;
mod library_pool;
mod model_commands;
mod navigation;
mod pages;
mod question_commands;
mod reading;
mod reply;
mod views;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use library_pool::LibraryPool;
use pagewise_engine::{Extractive, Meaning};

use tauri::{DragDropEvent, Manager, WindowEvent};

/// What every command shares.
pub struct App {
    /// The library the app has open (a few handles, lent to each command).
    pub library: Arc<LibraryPool>,
    pub grants: grants::Grants,
    pub jobs: Arc<jobs::Jobs>,
    pub pages: Arc<pages::PageCache>,
    pub answerer: Arc<Mutex<Extractive>>,
    /// The vision-language models, each loaded the first time it is used.
    pub loaded: Arc<model_commands::Loaded>,
    /// Which document open is being prepared for questions (the latest wins).
    pub preparing: Arc<AtomicU64>,
    pub started_ms: u64,
}

fn main() {
    // A worker started by this same executable serves its parent and exits here; otherwise files
    // are opened in such workers from now on (a crash in a parser costs one file, not the run).
    pagewise_engine::worker::enter();
    pagewise_engine::tune_process();
    let started_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let library = match pagewise_engine::Library::default_dir() {
        Ok(dir) => Arc::new(LibraryPool::new(dir)),
        Err(e) => {
            eprintln!("error: {e} (set PAGEWISE_LIBRARY to the folder to keep it in)");
            std::process::exit(1);
        }
    };
    // The answerer loads the sentence-embedding model; that happens while the window opens, so
    // the first question does not wait for it.
    let answerer = Arc::new(Mutex::new(Extractive::new(Meaning::lexical_only())));
    let warm = answerer.clone();
    std::thread::spawn(move || {
        // Held while loading: a question asked meanwhile waits for the full answerer.
        let mut slot = warm.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Extractive::new(Meaning::installed());
    });
    let app = App {
        library,
        grants: Default::default(),
        jobs: Default::default(),
        pages: Default::default(),
        answerer,
        loaded: Default::default(),
        preparing: Default::default(),
        started_ms,
    };
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(navigation::guard())
        .manage(app)
        .register_asynchronous_uri_scheme_protocol("page", |ctx, request, responder| {
            let app = ctx.app_handle().state::<App>();
            let (library, cache) = (app.library.clone(), app.pages.clone());
            let (path, query) = (request.uri().path().to_string(), request.uri().query().map(str::to_string));
            std::thread::spawn(move || responder.respond(pages::respond(&library, &cache, &path, query.as_deref())));
        })
        .on_window_event(|window, event| {
            // A drop grants its paths before the UI asks to import them.
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                window.state::<App>().grants.grant(paths.iter().cloned());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::library,
            commands::documents,
            commands::document,
            commands::pick_files,
            commands::import,
            commands::cancel,
            commands::remove_document,
            commands::page_view,
            commands::search,
            question_commands::ask,
            question_commands::ask_visual,
            reading::read_again,
            question_commands::questions,
            question_commands::prepare_questions,
            field_commands::schemas,
            field_commands::pick_schema,
            field_commands::extract,
            field_commands::correct,
            field_commands::export,
            model_commands::models,
            model_commands::model_get,
            model_commands::model_verify,
            model_commands::model_remove,
            model_commands::model_import,
        ])
        .run(tauri::generate_context!())
        .expect("the Pagewise window could not start");
}
