//! `pagewise-dev fuzz TARGET`: a fuzzing harness on stable Rust over the engine's readers of
//! untrusted bytes (`targets`). A mutation engine (`mutate`) makes inputs from seed files and a
//! dictionary of format tokens; the loop runs in a child process (`child`) that a parent
//! (`supervise`) restarts when native code kills it, saving the input in flight (`findings`).

mod child;
mod findings;
mod mutate;
mod supervise;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pagewise_engine::{Error, Result};
use serde_json::json;

use targets::{Target, PRODUCT};

#[derive(Args)]
pub struct FuzzArgs {
    /// What to fuzz: image, pdf, schema, manifest, onnx, archive, or all (each in turn, each
    /// with the whole --execs/--seconds budget)
    target: String,
    /// Seed of the mutations: the same seed gives the same inputs
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many executions (default 100000 when --seconds is not given either)
    #[arg(long)]
    execs: Option<u64>,
    /// Stop after this many seconds
    #[arg(long)]
    seconds: Option<f64>,
    /// Folder for each target's findings (crashes/), corpus and logs [default: <temp>/pagewise-fuzz]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds one input may run before it counts as a hang
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Address-space cap of the fuzzing process in MiB; an allocation past it is a finding
    #[arg(long, default_value_t = 4096)]
    memory_mb: u64,
    /// Instead of fuzzing, run these saved inputs (files, or folders of them) once each
    #[arg(long, num_args = 1..)]
    replay: Vec<PathBuf>,
    /// Internal: this is the fuzzing process that the parent supervises
    #[arg(long, hide = true)]
    child: bool,
    /// Internal: how many times the parent has restarted the fuzzing process
    #[arg(long, hide = true, default_value_t = 0)]
    restart: u32,
}

/// An I/O error on `path`, as the engine types it.
fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    |source| Error::Io { path: path.to_path_buf(), source }
}

fn unknown_target(name: &str) -> Error {
    let known: Vec<&str> = PRODUCT.iter().map(|t| t.name()).collect();
    Error::Internal {
        path: PathBuf::from("pagewise-dev fuzz"),
        detail: format!("no target '{name}' (targets: {}, all)", known.join(", ")),
    }
}

pub fn run(json: bool, args: FuzzArgs) -> Result<ExitCode> {
    let out = args.out.clone().unwrap_or_else(|| std::env::temp_dir().join("pagewise-fuzz"));
    let targets = if args.target == "all" {
        PRODUCT.to_vec()
    } else {
        vec![Target::parse(&args.target).ok_or_else(|| unknown_target(&args.target))?]
    };
    let execs = args.execs.or(if args.seconds.is_none() { Some(100_000) } else { None });
    let settings = supervise::Settings {
        seed: args.seed,
        execs,
        seconds: args.seconds,
        out,
        timeout: args.timeout,
        memory_mb: args.memory_mb,
    };
    if args.child {
        return run_child(targets[0], &args, &settings);
    }
    if !args.replay.is_empty() {
        return replay(json, targets[0], &args.replay, &settings);
    }
    let mut found = false;
    for target in targets {
        // `all` goes on without libpdfium, saying so, as the tests do.
        if args.target == "all" && target == Target::Pdf {
            if let Err(e) = pagewise_engine::pdfium::worker() {
                eprintln!("SKIP fuzz pdf: {e}");
                continue;
            }
        }
        let report = supervise::campaign(target, &settings)?;
        found |= !report.findings.is_empty();
        print_report(json, target, &report, &settings);
    }
    Ok(if found { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_child(target: Target, args: &FuzzArgs, settings: &supervise::Settings) -> Result<ExitCode> {
    child::limit_memory(settings.memory_mb);
    let dir = settings.out.clone();
    if let Some(file) = args.replay.first() {
        return Ok(if child::replay(target, &dir, file)? { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let plan = child::Plan {
        target,
        seed: args.seed,
        execs: settings.execs,
        seconds: settings.seconds,
        dir,
        run_seeds: args.restart == 0,
    };
    child::fuzz(&plan)?;
    Ok(ExitCode::SUCCESS)
}

fn print_report(json: bool, target: Target, r: &supervise::Report, settings: &supervise::Settings) {
    let rate = r.execs as f64 / r.seconds.max(1e-9);
    let dir = settings.out.join(target.name());
    if json {
        let findings: Vec<String> = r.findings.iter().map(|p| p.display().to_string()).collect();
        let line = json!({
            "target": target.name(), "seed": settings.seed, "execs": r.execs, "seconds": r.seconds,
            "execs_per_second": rate, "corpus": r.corpus, "restarts": r.restarts, "findings": findings,
            "out": dir.display().to_string(),
        });
        println!("{line}");
        return;
    }
    println!(
        "fuzz {}: {} execs in {:.1} s ({:.0} exec/s), seed {}, corpus {}, restarts {}, findings {}",
        target.name(),
        r.execs,
        r.seconds,
        rate,
        settings.seed,
        r.corpus,
        r.restarts,
        r.findings.len()
    );
    for f in &r.findings {
        println!("  finding: {}", f.display());
    }
}

/// Saved inputs, each run once; files in the folders given (not sub-folders), notes skipped.
fn replay(json: bool, target: Target, paths: &[PathBuf], settings: &supervise::Settings) -> Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(io(p))?;
            let mut found: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|f| f.is_file()).collect();
            found.retain(|f| !matches!(f.extension().and_then(|x| x.to_str()), Some("txt" | "md")));
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let results = supervise::replay(target, &files, settings)?;
    let failed = results.iter().filter(|(_, outcome)| outcome.is_err()).count();
    for (file, outcome) in &results {
        let file = file.display().to_string();
        match (json, outcome) {
            (true, Ok(o)) => println!("{}", json!({ "target": target.name(), "file": file, "outcome": o })),
            (true, Err(e)) => println!("{}", json!({ "target": target.name(), "file": file, "failure": e })),
            (false, Ok(o)) => println!("ok {file}: {o}"),
            (false, Err(e)) => println!("FAILED {file}: {e}"),
        }
    }
    if !json {
        println!("replay {}: {} input(s), {failed} failed", target.name(), results.len());
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
