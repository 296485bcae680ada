//! `pagewise extract DOC... --schema S`: fill in a schema's fields for many documents (files,
//! folders, globs or documents already in the library), with a progress bar, and export them as
//! CSV or JSON. Documents that fail are listed; the others are still exported.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressStyle};
use pagewise_engine::{
    collect_files, to_csv, to_json, write_file, AddOptions, AddStatus, Answering, CsvOptions, DocId, DocumentFields,
    Error, Extractive, Meaning, Progress, Result, Schema, ValueSource, Vlm, VISUAL_MODEL,
};

use crate::ask_cmd::Engine;
use crate::context::{open, print_json, resolve, worded, Ctx};
use crate::progress::ImportBars;

pub struct ExtractArgs {
    pub docs: Vec<String>,
    pub schema: String,
    /// A CSV file to write, or "-" for stdout.
    pub csv: Option<PathBuf>,
    pub with_evidence: bool,
    pub excel: bool,
    pub force: bool,
    /// Who answers each field's questions; with `Vlm`, the weights' precision.
    pub engine: crate::ask_cmd::Engine,
    pub dtype: crate::ask_cmd::Precision,
}

/// DOC arguments as paths: existing files and folders, and glob patterns expanded; anything
/// else is a document already in the library.
fn split_args(docs: &[String]) -> (Vec<PathBuf>, Vec<String>) {
    let (mut paths, mut refs) = (Vec::new(), Vec::new());
    for d in docs {
        if Path::new(d).exists() {
            paths.push(PathBuf::from(d));
        } else if d.contains(['*', '?', '[']) {
            paths.extend(glob::glob(d).into_iter().flatten().filter_map(|p| p.ok()));
        } else {
            refs.push(d.clone());
        }
    }
    (paths, refs)
}

pub fn extract(ctx: &Ctx, args: &ExtractArgs) -> Result<ExitCode> {
    let schema = Schema::load(&args.schema)?;
    // Refuse an existing output before any work is done.
    if let Some(out) = args.csv.as_ref().filter(|p| p.as_os_str() != "-") {
        if out.exists() && !args.force {
            return Err(Error::OutputExists { path: out.clone() });
        }
    }
    let mut lib = open(ctx)?;
    let (paths, refs) = split_args(&args.docs);
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut ids: Vec<DocId> = Vec::new();
    let files = collect_files(&paths);
    if !files.is_empty() {
        let bars = ImportBars::new();
        let outcomes = lib.add_files(&files, &AddOptions::default(), &AtomicBool::new(false), &mut |e| bars.on(e))?;
        for o in outcomes {
            match (o.status, o.doc_id) {
                (AddStatus::Failed, _) | (_, None) => failed.push((
                    o.path.clone(),
                    o.error.map(|e| worded(&e)).unwrap_or_else(|| "could not be imported".into()),
                )),
                (_, Some(id)) => ids.push(id),
            }
        }
    }
    for r in &refs {
        match lib.resolve(r) {
            Ok(d) => ids.push(d.id),
            Err(e) => failed.push((r.clone(), e.to_string())),
        }
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));

    let bar = ProgressBar::new(ids.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} documents  {msg}  ({eta} left)")
            .expect("template")
            .progress_chars("=> "),
    );
    let mut on_progress = |e: &Progress| match e {
        Progress::FileStarted { path, .. } => bar.set_message(path.clone()),
        Progress::Extracted { .. } => bar.inc(1),
        _ => {}
    };
    let cancel = AtomicBool::new(false);
    let (results, errors) = match args.engine {
        Engine::Extractive => {
            let mut answering = Answering::Extractive(&mut Extractive::new(Meaning::installed()));
            lib.extract_documents(&ids, &schema, &mut answering, &cancel, &mut on_progress)?
        }
        Engine::Vlm => {
            // Each field's questions are put to Qwen3-VL looking at the page (answers checked
            // against the page's words, as `ask --engine vlm`).
            let mut model = Vlm::load_installed(VISUAL_MODEL, args.dtype.engine())?;
            let (max_pixels, mut quiet) = (pagewise_engine::DEFAULT_MAX_PIXELS, |_: &str| {});
            let mut answering = Answering::Visual { model: &mut model, max_pixels, on_text: &mut quiet };
            lib.extract_documents(&ids, &schema, &mut answering, &cancel, &mut on_progress)?
        }
    };
    bar.finish_and_clear();
    failed.extend(errors.into_iter().map(|(id, e)| (id.to_string(), worded(&e))));

    match &args.csv {
        Some(out) => {
            let bytes = to_csv(&schema, &results, CsvOptions { with_evidence: args.with_evidence, excel: args.excel });
            if out.as_os_str() == "-" {
                use std::io::Write;
                std::io::stdout().write_all(&bytes).map_err(|e| Error::Io { path: "stdout".into(), source: e })?;
            } else {
                write_file(out, &bytes, args.force)?;
                eprintln!("wrote {} ({} documents, {} fields)", out.display(), results.len(), schema.fields.len());
            }
        }
        None if ctx.json => {
            let out = serde_json::json!({
                "schema": schema.name,
                "documents": serde_json::from_slice::<serde_json::Value>(&to_json(&results)).expect("json"),
                "failed": failed.iter().map(|(w, e)| serde_json::json!({"document": w, "error": e})).collect::<Vec<_>>()
            });
            print_json(&out);
        }
        None => print_table(&schema, &results),
    }
    for (what, why) in &failed {
        eprintln!("failed: {what}: {why}");
    }
    for r in results.iter().filter(|r| !r.missing_required.is_empty()) {
        eprintln!("check: {} has no value for required field(s) {}", r.name, r.missing_required.join(", "));
    }
    let reused: usize = results.iter().map(|r| r.reused).sum();
    eprintln!(
        "{} documents extracted, {} failed ({} values unchanged since the last run)",
        results.len(),
        failed.len(),
        reused
    );
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_table(schema: &Schema, results: &[DocumentFields]) {
    for d in results {
        println!("{}  {}", d.doc_id.short(), d.name);
        for spec in &schema.fields {
            let v = d.fields.iter().find(|v| v.field == spec.name);
            let shown = match v {
                Some(v) if v.value.is_some() => {
                    let page = v.page().map(|p| format!("  p.{p}")).unwrap_or_default();
                    let mark = if v.source == ValueSource::User { "  (corrected)" } else { "" };
                    format!(
                        "{}{}  [{:.2}]{page}{mark}",
                        v.value.as_deref().unwrap_or(""),
                        v.currency.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
                        v.confidence
                    )
                }
                Some(v) => format!("-  ({})", v.reason.as_deref().unwrap_or("not found")),
                None => "-".into(),
            };
            println!("  {:<16} {shown}", spec.name);
        }
    }
}

/// `pagewise correct DOC --schema S FIELD VALUE`: a person's value, kept across reruns.
pub fn correct(ctx: &Ctx, doc: &str, schema: &str, field: &str, value: &str) -> Result<ExitCode> {
    let schema = Schema::load(schema)?;
    let mut lib = open(ctx)?;
    let doc = resolve(&mut lib, doc)?;
    let v = lib.correct(&doc.id, &schema, field, value)?;
    if ctx.json {
        print_json(&v);
    } else {
        println!("{} {}: {} (corrected; kept when extraction runs again)", doc.id.short(), field, value);
    }
    Ok(ExitCode::SUCCESS)
}

/// `pagewise schema NAME`: a preset's TOML, to start a schema of one's own.
pub fn show_schema(name: &str) -> Result<ExitCode> {
    match Schema::preset_text(name) {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Error::BadSchema {
            path: name.into(),
            line: 0,
            detail: "no such preset (invoice, receipt, contract)".into(),
        }),
    }
}
