//! The parent side: runs the fuzzing loop in a child process of this executable, reads its
//! progress, and when the child dies (a segfault or abort in pdfium or a decoder, an
//! allocation past the memory cap) or stops answering (a hang), saves the input it had in
//! flight as a finding and starts a new child on the rest of the budget.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

use pagewise_engine::{Error, Result};

use super::io;
use super::targets::{outcome_name, Target};
use super::{child, findings};

/// A campaign's settings, as given on the command line.
pub struct Settings {
    pub seed: u64,
    pub execs: Option<u64>,
    pub seconds: Option<f64>,
    pub out: PathBuf,
    /// Seconds one input may run before it is a hang.
    pub timeout: u64,
    pub memory_mb: u64,
}

/// What one campaign did.
#[derive(Debug, Default)]
pub struct Report {
    pub execs: u64,
    pub seconds: f64,
    pub corpus: usize,
    pub restarts: u32,
    pub findings: Vec<PathBuf>,
}

/// After this many restarts the campaign stops: the target crashes on nearly every input, and
/// the findings so far say why.
const MAX_RESTARTS: u32 = 50;

fn internal(detail: String) -> Error {
    Error::Internal { path: PathBuf::from("pagewise-dev fuzz"), detail }
}

/// `pagewise-dev fuzz TARGET --child ...`, stdout piped, stderr to `log`.
fn spawn(target: Target, dir: &Path, log: &Path, memory_mb: u64, extra: &[String]) -> Result<Child> {
    let exe = std::env::current_exe().map_err(|e| internal(format!("cannot find this executable: {e}")))?;
    let stderr = std::fs::File::create(log).map_err(io(log))?;
    Command::new(exe)
        .args(["fuzz", target.name(), "--child", "--memory-mb", &memory_mb.to_string(), "--out"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| internal(format!("cannot start the fuzzing process: {e}")))
}

/// The last lines of a child's stderr, for a finding's note.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

pub fn campaign(target: Target, settings: &Settings) -> Result<Report> {
    let dir = settings.out.join(target.name());
    // The corpus is this campaign's working set (and what a restarted child resumes from): a
    // campaign starts from the seeds alone, so that a seed gives the same run.
    let _ = std::fs::remove_dir_all(dir.join("corpus"));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let (inflight, log) = (dir.join("inflight"), dir.join("child.log"));
    let start = Instant::now();
    let mut report = Report::default();
    loop {
        let execs_left = settings.execs.map(|n| n.saturating_sub(report.execs));
        let seconds_left = settings.seconds.map(|s| s - start.elapsed().as_secs_f64());
        if execs_left == Some(0) || seconds_left.is_some_and(|s| s <= 0.0) {
            break;
        }
        let mut extra = vec![
            "--seed".to_string(),
            settings.seed.wrapping_add(report.restarts as u64 * 7919).to_string(),
            "--restart".into(),
            report.restarts.to_string(),
        ];
        extra.extend(execs_left.map(|n| ["--execs".to_string(), n.to_string()]).into_iter().flatten());
        extra.extend(seconds_left.map(|s| ["--seconds".to_string(), format!("{s:.3}")]).into_iter().flatten());
        let _ = std::fs::write(&inflight, b"");
        let mut child = spawn(target, &dir, &log, settings.memory_mb, &extra)?;
        let watched = watch(&mut child, settings.timeout, &mut report)?;
        let _ = std::fs::remove_dir_all(child::scratch_dir(&dir, child.id()));
        if watched.done && watched.status.success() {
            report.execs += watched.execs;
            break;
        }
        let stderr = tail(&log);
        let Some((execs, input)) = child::read_inflight(&inflight) else {
            return Err(internal(format!(
                "the fuzzing process failed before its first input ({}):\n{stderr}",
                watched.status
            )));
        };
        report.execs += execs;
        report.restarts += 1;
        let (kind, how) = if watched.hung {
            ("timeout", format!("no progress for {} s", settings.timeout))
        } else {
            ("crash", describe(watched.status))
        };
        let last_words = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        let signature = format!("{how}: {}", outcome_name(last_words));
        if let Some(path) = findings::save(&dir, kind, &signature, &input, &format!("{how}\n\nstderr:\n{stderr}"))? {
            report.findings.push(path);
        }
        if report.restarts >= MAX_RESTARTS {
            eprintln!("fuzz {}: stopped after {MAX_RESTARTS} restarts", target.name());
            break;
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// How a child ended, in words: its exit code or the signal that killed it.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(signal)) => format!("killed by signal {signal}{}", if status.core_dumped() { " (core)" } else { "" }),
        (Some(code), _) => format!("exited with code {code}"),
        _ => status.to_string(),
    }
}

struct Watched {
    /// The last line that was not an `@fuzz` one (a replayed input's outcome).
    said: Option<String>,
    execs: u64,
    done: bool,
    hung: bool,
    status: ExitStatus,
}

/// Follow a child's `@fuzz` lines until it ends, or kill it when it is silent for `timeout` s.
fn watch(child: &mut Child, timeout: u64, report: &mut Report) -> Result<Watched> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut execs, mut done, mut hung, mut said) = (0, false, false, None);
    loop {
        match rx.recv_timeout(Duration::from_secs(timeout.max(1))) {
            Ok(line) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["@fuzz", "stat", n, c] | ["@fuzz", "done", n, c] => {
                        execs = n.parse().unwrap_or(execs);
                        report.corpus = c.parse().unwrap_or(report.corpus);
                        done |= words[1] == "done";
                    }
                    ["@fuzz", "finding", ..] => report.findings.push(PathBuf::from(&line["@fuzz finding ".len()..])),
                    _ => said = Some(line),
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                hung = true;
                let _ = child.kill();
                break;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait().map_err(|e| internal(format!("cannot wait for the fuzzing process: {e}")))?;
    Ok(Watched { said, execs, done, hung, status })
}

/// One replayed input: its outcome, or why it failed.
pub type Replayed = (PathBuf, std::result::Result<String, String>);

/// Run each saved input once, each in a child process of its own.
pub fn replay(target: Target, files: &[PathBuf], settings: &Settings) -> Result<Vec<Replayed>> {
    let dir = settings.out.join(target.name());
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let log = dir.join("replay.log");
    let mut results = Vec::new();
    for file in files {
        let mut child =
            spawn(target, &dir, &log, settings.memory_mb, &["--replay".into(), file.display().to_string()])?;
        let mut report = Report::default();
        let watched = watch(&mut child, settings.timeout, &mut report)?;
        let outcome = if watched.hung {
            Err(format!("no outcome after {} s", settings.timeout))
        } else if !watched.status.success() {
            Err(format!("{}: {}", describe(watched.status), tail(&log)))
        } else {
            Ok(watched.said.unwrap_or_default())
        };
        results.push((file.clone(), outcome));
    }
    Ok(results)
}
