//! Fields: the schemas the UI may use (presets, or a TOML file the person picked), filling one
//! in for documents (by the extractive answerer, or by Qwen3-VL looking at the page), a
//! person's corrections, and exports to CSV or JSON.

use pagewise_engine::{
    to_csv, to_json, write_file, Answering, CsvOptions, DocId, Extractive, FieldValue, Meaning, Precision, Progress,
    Schema, DEFAULT_MAX_PIXELS, SCHEMA_PRESETS,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::reply::{blocking, refused, worded, Reply};
use crate::views::{ExtractRun, Failure, FieldView, SchemaView};
use crate::{dialogs, App};

/// A schema the UI may use: a preset, or a TOML file the person picked.
fn granted_schema(app: &App, spec: String) -> Reply<String> {
    if !SCHEMA_PRESETS.iter().any(|(name, _)| *name == spec) {
        app.grants.check(std::path::Path::new(&spec)).map_err(refused)?;
    }
    Ok(spec)
}

fn schema_view(spec: String) -> pagewise_engine::Result<SchemaView> {
    let s = Schema::load(&spec)?;
    let fields =
        s.fields.iter().map(|f| FieldView { name: f.name.clone(), kind: f.kind, required: f.required }).collect();
    Ok(SchemaView { spec, name: s.name, description: s.description, fields })
}

#[tauri::command]
pub async fn schemas() -> Reply<Vec<SchemaView>> {
    blocking(|| SCHEMA_PRESETS.iter().map(|(name, _)| schema_view(name.to_string())).collect()).await
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
    let (library, guard, loaded) = (app.library.clone(), app.jobs.start(job), app.loaded.clone());
    blocking(move || {
        let (lib, schema) = (library.get()?, Schema::load(&schema)?);
        let mut on_progress = |e: &Progress| {
            let event = match e {
                Progress::Extracted { index, doc_id, name, error } => Progress::Extracted {
                    index: *index,
                    doc_id: doc_id.clone(),
                    name: name.clone(),
                    error: error.clone().map(worded),
                },
                other => other.clone(),
            };
            drop(progress.send(event));
        };
        let (documents, failed) = if vlm {
            let mut model = loaded.answerer(precision)?;
            let mut quiet = |_: &str| {};
            let mut answering =
                Answering::Visual { model: &mut model, max_pixels: DEFAULT_MAX_PIXELS, on_text: &mut quiet };
            lib.extract_documents(&ids, &schema, &mut answering, &guard.flag, &mut on_progress)?
        } else {
            let mut answering = Answering::Extractive(&mut Extractive::new(Meaning::installed()));
            lib.extract_documents(&ids, &schema, &mut answering, &guard.flag, &mut on_progress)?
        };
        Ok(ExtractRun {
            documents,
            failed: failed.into_iter().map(|(doc_id, error)| Failure { doc_id, error: worded(error) }).collect(),
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
    let library = app.library.clone();
    blocking(move || library.get()?.correct(&id, &Schema::load(&schema)?, &field, &value)).await
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
    let library = app.library.clone();
    blocking(move || {
        let (lib, schema) = (library.get()?, Schema::load(&schema)?);
        // The values as the table shows them: stored ones are reused, nothing new is recorded.
        let (mut answerer, mut docs) = (Extractive::new(Meaning::installed()), Vec::new());
        for id in &ids {
            docs.push(lib.extract_document(id, &schema, &mut Answering::Extractive(&mut answerer))?);
        }
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
