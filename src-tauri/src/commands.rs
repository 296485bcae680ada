//! The library and viewer commands the UI invokes. Each is thin: it takes a library handle from
//! the app's pool, calls the engine on a blocking thread (never on the UI thread) and returns
//! the engine's own types. Long work streams the engine's `Progress` events through a Channel
//! and can be cancelled by its job token. (Questions: `question_commands`; fields:
//! `field_commands`; models: `model_commands`; reading again: `reading`.)

use std::path::PathBuf;

use pagewise_engine::{
    collect_files, AddOptions, AddOutcome, DocId, Document, Library, Meaning, Progress, SearchHit, PAGE_LAYOUT,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::reply::{blocking, refused, worded, Reply};
use crate::views::{LabelColour, LibraryView, PageView};
use crate::{dialogs, App};

/// Documents sent with the library view; the list asks for more as it scrolls.
const FIRST_DOCUMENTS: u64 = 100;
/// Most documents one `documents` call sends.
const MAX_DOCUMENTS: u64 = 1000;
/// Most search hits one `search` call sends.
const MAX_HITS: usize = 200;

#[tauri::command]
pub async fn library(app: State<'_, App>) -> Reply<LibraryView> {
    let (library, started) = (app.library.clone(), app.started_ms);
    blocking(move || {
        let lib = library.get()?;
        let (total, documents) = (lib.count_documents()?, lib.documents(0, FIRST_DOCUMENTS)?);
        let dir = library.dir().display().to_string();
        Ok(LibraryView { dir, total, documents, process_started_ms: started, label_colours: LabelColour::all() })
    })
    .await
}

/// A page of the library's documents, in the order they were added.
#[tauri::command]
pub async fn documents(app: State<'_, App>, offset: u64, limit: u64) -> Reply<Vec<Document>> {
    let library = app.library.clone();
    blocking(move || library.get()?.documents(offset, limit.min(MAX_DOCUMENTS))).await
}

/// One document (a search hit's, which the list may not have loaded).
#[tauri::command]
pub async fn document(app: State<'_, App>, id: DocId) -> Reply<Document> {
    let library = app.library.clone();
    blocking(move || library.get()?.document(&id)).await
}

/// Show the "Add…" dialog (files, or one folder) and grant what was picked.
#[tauri::command]
pub async fn pick_files(window: tauri::Window, app: State<'_, App>, folders: bool) -> Reply<Vec<String>> {
    let picked = dialogs::pick_documents(&window, folders).await;
    app.grants.grant(picked.iter().cloned());
    Ok(picked.iter().map(|p| p.display().to_string()).collect())
}

/// Import dropped or picked files and folders, one progress event at a time. `password` opens
/// an encrypted PDF (entered in the library list after it was refused for want of one); it is
/// kept in the OS keyring, or for this session where none answers.
#[tauri::command]
pub async fn import(
    app: State<'_, App>,
    paths: Vec<String>,
    password: Option<String>,
    job: u32,
    progress: Channel<Progress>,
) -> Reply<Vec<AddOutcome>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    for p in &paths {
        app.grants.check(p).map_err(refused)?;
    }
    let (library, guard) = (app.library.clone(), app.jobs.start(job));
    blocking(move || {
        let files = collect_files(&paths);
        let outcomes =
            library.get()?.add_files(&files, &AddOptions { password, skip_ocr: false }, &guard.flag, &mut |e| {
                let event = match e {
                    Progress::FileFinished { index, outcome } => {
                        Progress::FileFinished { index: *index, outcome: worded_outcome(outcome.clone()) }
                    }
                    other => other.clone(),
                };
                let _ = progress.send(event);
            })?;
        Ok(outcomes.into_iter().map(worded_outcome).collect())
    })
    .await
}

/// A file's outcome with the app's advice in its errors.
fn worded_outcome(outcome: AddOutcome) -> AddOutcome {
    AddOutcome { error: outcome.error.map(worded), unread_reason: outcome.unread_reason.map(worded), ..outcome }
}

#[tauri::command]
pub fn cancel(app: State<'_, App>, job: u32) -> bool {
    app.jobs.cancel(job)
}

#[tauri::command]
pub async fn remove_document(app: State<'_, App>, id: DocId) -> Reply<()> {
    app.pages.forget(&id.0);
    let library = app.library.clone();
    blocking(move || library.get()?.remove(&id)).await
}

#[tauri::command]
pub async fn page_view(app: State<'_, App>, id: DocId, page: u32) -> Reply<PageView> {
    let library = app.library.clone();
    blocking(move || page_view_of(&*library.get()?, id, page)).await
}

/// A stored page as the viewer draws it, with its layout (detected now if not stored yet): the
/// layout questions and extraction use too.
pub fn page_view_of(lib: &Library, id: DocId, page: u32) -> pagewise_engine::Result<PageView> {
    let doc = lib.document(&id)?;
    let p = lib.page(&id, page)?;
    let mut layout = lib.page_layout(&id, page, PAGE_LAYOUT)?;
    layout.error = layout.error.map(worded);
    Ok(PageView {
        doc_id: id,
        page,
        pages: doc.pages,
        width: p.width,
        height: p.height,
        source: p.source,
        turned: p.turned,
        from_photo: p.photo_corners.is_some(),
        words: p.words,
        lines: p.lines,
        layout,
        error: p.error.map(worded),
    })
}

/// A page of search hits (`limit` from `offset`); the first search by meaning sends its
/// embedding progress on `progress`.
#[tauri::command]
pub async fn search(
    app: State<'_, App>,
    query: String,
    semantic: bool,
    offset: usize,
    limit: usize,
    progress: Channel<Progress>,
) -> Reply<Vec<SearchHit>> {
    let library = app.library.clone();
    let limit = limit.min(MAX_HITS);
    blocking(move || {
        let lib = library.get()?;
        match semantic {
            true => lib.semantic_search(&query, offset, limit, &mut Meaning::installed(), &mut |e| {
                let _ = progress.send(e.clone());
            }),
            false => lib.search(&query, offset, limit),
        }
    })
    .await
}
