//! The commands the UI invokes. Each is thin: it opens the library, calls the engine on a
//! blocking thread (never on the UI thread) and returns the engine's own types; errors reach the
//! UI as `{kind, message}`. Long work streams the engine's `Progress` events through a Channel
//! and can be cancelled by its job token.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use pagewise_engine::ask::{self, visual, Answer, Extractive};
use pagewise_engine::export::csv::{to_csv, CsvOptions};
use pagewise_engine::export::{to_json, write_file};
use pagewise_engine::extract::{self, FieldValue, Schema};
use pagewise_engine::layout::{page_layout, LayoutMode};
use pagewise_engine::pipeline::{self, AddOptions, AddOutcome, Progress};
use pagewise_engine::store::Asked;
use pagewise_engine::vlm::Precision;
use pagewise_engine::{index, models, DocId, Document, ErrorReport, Library};
use tauri::ipc::Channel;
use tauri::State;

use crate::model_commands::Loaded;
use crate::views::{ExtractRun, Failure, FieldView, LabelColour, LibraryView, ModelView, PageView, SchemaView};
use crate::{dialogs, App};

type Reply<T> = Result<T, ErrorReport>;

/// Run engine work off the UI thread.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> pagewise_engine::Result<T> + Send + 'static) -> Reply<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ErrorReport { kind: "internal".into(), message: e.to_string() })?
        .map_err(|e| e.to_report())
}

fn refused(message: String) -> ErrorReport {
    ErrorReport { kind: "not_granted".into(), message }
}

/// A schema the UI may use: a preset, or a TOML file the person picked.
fn granted_schema(app: &App, spec: String) -> Reply<String> {
    if !extract::schema::PRESETS.iter().any(|(name, _)| *name == spec) {
        app.grants.check(std::path::Path::new(&spec)).map_err(refused)?;
    }
    Ok(spec)
}

#[tauri::command]
pub async fn library(app: State<'_, App>) -> Reply<LibraryView> {
    let (dir, started) = (app.library.clone(), app.started_ms);
    blocking(move || {
        let documents = Library::open(&dir)?.documents()?;
        Ok(LibraryView {
            dir: dir.display().to_string(),
            documents,
            process_started_ms: started,
            label_colours: LabelColour::all(),
        })
    })
    .await
}

/// Show the "Add…" dialog (files, or one folder) and grant what was picked.
#[tauri::command]
pub async fn pick_files(window: tauri::Window, app: State<'_, App>, folders: bool) -> Reply<Vec<String>> {
    let picked = dialogs::pick_documents(&window, folders).await;
    app.grants.grant(picked.iter().cloned());
    Ok(picked.iter().map(|p| p.display().to_string()).collect())
}

/// Import dropped or picked files and folders, one progress event at a time.
#[tauri::command]
pub async fn import(
    app: State<'_, App>,
    paths: Vec<String>,
    job: u32,
    progress: Channel<Progress>,
) -> Reply<Vec<AddOutcome>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    for p in &paths {
        app.grants.check(p).map_err(refused)?;
    }
    let (dir, guard) = (app.library.clone(), app.jobs.start(job));
    blocking(move || {
        let files = pipeline::collect_files(&paths);
        pipeline::add_files(&mut Library::open(&dir)?, &files, &AddOptions::default(), &guard.flag, &mut |e| {
            let _ = progress.send(e.clone());
        })
    })
    .await
}

#[tauri::command]
pub fn cancel(app: State<'_, App>, job: u32) -> bool {
    app.jobs.cancel(job)
}

#[tauri::command]
pub async fn remove_document(app: State<'_, App>, id: DocId) -> Reply<()> {
    app.pages.forget(&id.0);
    let dir = app.library.clone();
    blocking(move || Library::open(&dir)?.remove(&id)).await
}

#[tauri::command]
pub async fn page_view(app: State<'_, App>, id: DocId, page: u32) -> Reply<PageView> {
    let dir = app.library.clone();
    blocking(move || page_view_of(&Library::open(&dir)?, id, page)).await
}

/// A stored page as the viewer draws it, with its layout (detected now if not stored yet).
pub fn page_view_of(lib: &Library, id: DocId, page: u32) -> pagewise_engine::Result<PageView> {
    let doc: Document = lib.document(&id)?;
    let p = lib.page(&id, page)?;
    let layout = page_layout(lib, &id, page, LayoutMode::Auto)?;
    Ok(PageView {
        doc_id: id,
        page,
        pages: doc.pages,
        width: p.width,
        height: p.height,
        source: p.source,
        turned: p.turned,
        words: p.words,
        lines: p.lines,
        layout,
        error: p.error,
    })
}

#[tauri::command]
pub async fn search(app: State<'_, App>, query: String, semantic: bool) -> Reply<Vec<index::SearchHit>> {
    let dir = app.library.clone();
    blocking(move || {
        let lib = Library::open(&dir)?;
        match semantic {
            true => index::semantic_search(&lib, &query, 30, &mut ask::meaning::Meaning::installed()),
            false => index::search(&lib, &query, 30),
        }
    })
    .await
}

/// Ask about one page (`page`) or the whole document; the answer is kept in its history.
#[tauri::command]
pub async fn ask(app: State<'_, App>, id: DocId, question: String, page: Option<u32>) -> Reply<Answer> {
    let (dir, answerer) = (app.library.clone(), app.answerer.clone());
    blocking(move || {
        let lib = Library::open(&dir)?;
        // One answerer for the session: its cache of embedded wording stays warm.
        let answer = ask::ask(&lib, &id, &question, page, &mut *answerer.lock().unwrap_or_else(|p| p.into_inner()))?;
        lib.record_question(&id, page, &answer)?;
        Ok(answer)
    })
    .await
}

/// Ask the vision-language model (Qwen3-VL, loaded on first use) about a page: its words stream
/// through `tokens` as it writes them; the answer comes back grounded and checked.
#[tauri::command]
pub async fn ask_visual(
    app: State<'_, App>,
    id: DocId,
    question: String,
    page: Option<u32>,
    precision: Precision,
    tokens: Channel<String>,
) -> Reply<Answer> {
    let (dir, loaded) = (app.library.clone(), app.loaded.clone());
    blocking(move || {
        let lib = Library::open(&dir)?;
        ask::parse_question(&question)?;
        let mut model = Loaded::get(&loaded.answerer, &loaded.reader, precision, visual::load_model)?;
        let model = &mut *model;
        let (lib_ref, doc) = (&lib, id.clone());
        let mut answerer = visual::Visual::new(
            model,
            move |p| visual::page_image(lib_ref, &doc, p),
            |piece| drop(tokens.send(piece.to_string())),
        );
        let answer = ask::ask(&lib, &id, &question, page, &mut answerer)?;
        lib.record_question(&id, page, &answer)?;
        Ok(answer)
    })
    .await
}

/// Get ready for questions about a document just opened (its wording embedded in the
/// background), so that the first answer is as quick as the next.
#[tauri::command]
pub async fn prepare_questions(app: State<'_, App>, id: DocId) -> Reply<()> {
    // Only the latest document opened is prepared.
    let (dir, latest) = (app.library.clone(), app.preparing.clone());
    let this = latest.fetch_add(1, Ordering::SeqCst) + 1;
    blocking(move || {
        let prepared = ask::Prepared::load(&Library::open(&dir)?, &id, None)?;
        ask::meaning::Meaning::installed().warm(&prepared.view(), &|| latest.load(Ordering::SeqCst) == this);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn questions(app: State<'_, App>, id: DocId) -> Reply<Vec<Asked>> {
    let dir = app.library.clone();
    blocking(move || Library::open(&dir)?.questions(&id)).await
}

fn schema_view(spec: String) -> pagewise_engine::Result<SchemaView> {
    let s = Schema::load(&spec)?;
    let fields =
        s.fields.iter().map(|f| FieldView { name: f.name.clone(), kind: f.kind, required: f.required }).collect();
    Ok(SchemaView { spec, name: s.name, description: s.description, fields })
}

#[tauri::command]
pub async fn schemas() -> Reply<Vec<SchemaView>> {
    blocking(|| extract::schema::PRESETS.iter().map(|(name, _)| schema_view(name.to_string())).collect()).await
}

/// Pick a schema TOML file; its errors (with file:line) come back as the reply's error.
#[tauri::command]
pub async fn pick_schema(window: tauri::Window, app: State<'_, App>) -> Reply<Option<SchemaView>> {
    let Some(path) = dialogs::pick_schema(&window).await else { return Ok(None) };
    app.grants.grant([path.clone()]);
    blocking(move || schema_view(path.display().to_string()).map(Some)).await
}

/// Fill in a schema for documents, one progress event per document; failures are listed. With
/// `vlm`, each field's questions are put to Qwen3-VL looking at the page (loaded at `precision`;
/// its answers checked as `ask_visual`'s).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn extract(
    app: State<'_, App>,
    ids: Vec<DocId>,
    schema: String,
    vlm: bool,
    precision: Precision,
    job: u32,
    progress: Channel<Progress>,
) -> Reply<ExtractRun> {
    let schema = granted_schema(&app, schema)?;
    let (dir, guard, loaded) = (app.library.clone(), app.jobs.start(job), app.loaded.clone());
    blocking(move || {
        let (lib, schema) = (Library::open(&dir)?, Schema::load(&schema)?);
        // The document being extracted, for the visual answerer's page images.
        let current = std::cell::Cell::new(0usize);
        let mut on_progress = |e: &Progress| {
            if let Progress::FileStarted { index, .. } = e {
                current.set(*index);
            }
            let _ = progress.send(e.clone());
        };
        let (documents, failed) = if vlm {
            let mut model = Loaded::get(&loaded.answerer, &loaded.reader, precision, visual::load_model)?;
            let (lib_ref, ids_ref, at) = (&lib, &ids, &current);
            let mut answerer =
                visual::Visual::new(&mut model, move |p| visual::page_image(lib_ref, &ids_ref[at.get()], p), |_| {});
            extract::extract_documents(&lib, &ids, &schema, &mut answerer, &guard.flag, &mut on_progress)?
        } else {
            extract::extract_documents(&lib, &ids, &schema, &mut Extractive::new(), &guard.flag, &mut on_progress)?
        };
        Ok(ExtractRun {
            documents,
            failed: failed.into_iter().map(|(doc_id, error)| Failure { doc_id, error }).collect(),
        })
    })
    .await
}

/// A person's value for a field, kept when extraction runs again.
#[tauri::command]
pub async fn correct(
    app: State<'_, App>,
    id: DocId,
    schema: String,
    field: String,
    value: String,
) -> Reply<FieldValue> {
    let schema = granted_schema(&app, schema)?;
    let dir = app.library.clone();
    blocking(move || extract::correct(&Library::open(&dir)?, &id, &Schema::load(&schema)?, &field, &value)).await
}

/// Save the documents' values as CSV or JSON where the person chooses; None when they cancel.
#[tauri::command]
pub async fn export(
    window: tauri::Window,
    app: State<'_, App>,
    ids: Vec<DocId>,
    schema: String,
    format: String,
    with_evidence: bool,
) -> Reply<Option<String>> {
    let schema = granted_schema(&app, schema)?;
    let Some(path) = dialogs::save_as(&window, &format).await else { return Ok(None) };
    let dir = app.library.clone();
    blocking(move || {
        let (lib, schema) = (Library::open(&dir)?, Schema::load(&schema)?);
        // The values as the table shows them: stored ones are reused, nothing new is recorded.
        let mut answerer = Extractive::new();
        let docs = ids
            .iter()
            .map(|id| extract::extract_document(&lib, id, &schema, &mut answerer))
            .collect::<pagewise_engine::Result<Vec<_>>>()?;
        let bytes = match format.as_str() {
            "json" => to_json(&docs),
            _ => to_csv(&schema, &docs, CsvOptions { with_evidence, excel: false }),
        };
        // The dialog already asked whether to replace an existing file.
        write_file(&path, &bytes, true)?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

#[tauri::command]
pub fn models() -> Vec<ModelView> {
    let dir = models::models_dir();
    models::manifest()
        .into_iter()
        .map(|m| {
            let path = dir.join(&m.file);
            let bytes = std::fs::metadata(&path).ok().map(|md| md.len());
            ModelView {
                installed: bytes.is_some(),
                bytes,
                path: path.display().to_string(),
                fetch: models::FETCH_COMMAND.into(),
                name: m.name,
                task: m.task,
                package: m.package,
                version: m.version,
                licence: m.licence,
                source: m.source,
                optional: false,
            }
        })
        .chain(models::hub_models().into_iter().map(|m| {
            let installed = models::hub::installed_dir(&dir, &m).ok();
            ModelView {
                installed: installed.is_some(),
                bytes: Some(m.approx_bytes),
                path: models::hub::hub_dir(&dir).join(&m.id).display().to_string(),
                fetch: m.get_command(),
                task: format!("{} (needs {} GB of memory)", m.purpose, m.min_memory_gb),
                package: m.repo.clone(),
                version: m.version_label(),
                source: format!("https://huggingface.co/{}", m.repo),
                name: m.id,
                licence: m.licence,
                optional: true,
            }
        }))
        .collect()
}
