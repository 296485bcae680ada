//! The fuzzing loop, in a child process of `pagewise-dev fuzz` (see `supervise`). Before each
//! execution the input and its number are written to `<dir>/inflight` ([`read_inflight`]), so
//! that if native code kills the process the parent still has them. Panics are caught per
//! input and saved here. Progress goes to stdout as `@fuzz` lines: `stat EXECS CORPUS`,
//! `finding PATH`, `done EXECS CORPUS`.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pagewise_engine::Result;

use super::findings::{self, fnv};
use super::io;
use super::mutate::Mutator;
use super::targets::{outcome_name, Target};

/// Inputs kept for mutation; past this, new outcomes are still run but no longer kept.
const MAX_CORPUS: usize = 4096;
const STAT_EVERY: Duration = Duration::from_millis(250);

pub struct Plan {
    pub target: Target,
    pub seed: u64,
    pub execs: Option<u64>,
    pub seconds: Option<f64>,
    /// The target's folder: crashes/, corpus/, inflight.
    pub dir: PathBuf,
    /// The first child runs the seeds as they are before mutating them; a restarted one does not.
    pub run_seeds: bool,
}

/// Where the first panic of the current input happened (a panic re-raised from the pdfium
/// thread keeps the first one's place).
static PANIC_AT: Mutex<Option<String>> = Mutex::new(None);

/// Panics are findings, reported by the loop: the default hook's message on stderr would only
/// repeat them, thousands of times. With RUST_BACKTRACE set (for a replay), the backtrace goes
/// to stderr.
fn quiet_panics() {
    let backtrace = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    std::panic::set_hook(Box::new(move |info| {
        if backtrace {
            eprintln!("{info}\n{}", std::backtrace::Backtrace::force_capture());
        }
        let mut at = PANIC_AT.lock().unwrap_or_else(|e| e.into_inner());
        if at.is_none() {
            *at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        }
    }));
}

/// Cap the process's address space: an allocation past it aborts, and the parent keeps the
/// input as a finding (a decompression bomb the bounds missed), instead of the machine swapping.
pub fn limit_memory(mib: u64) {
    let bytes = mib.saturating_mul(1 << 20);
    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
    // SAFETY: setrlimit reads the struct given; no memory is shared.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit);
    }
}

/// Run one input; a panic comes back as its signature (place and message) and message.
fn run_one(harness: &mut super::targets::Harness, input: &[u8]) -> std::result::Result<String, (String, String)> {
    *PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| harness(input))).map_err(|payload| {
        let message = pagewise_engine::panic_message(payload);
        let at = PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        (format!("{at}: {}", outcome_name(&message)), format!("panicked at {at}: {message}"))
    })
}

/// Scratch space of the fuzzing process `pid`, for targets that write files: in memory
/// (/dev/shm) where there is one, as thousands of small files a second go there.
pub fn scratch_dir(dir: &Path, pid: u32) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm } else { dir };
    base.join(format!("pagewise-fuzz-scratch-{pid}"))
}

/// The in-flight file: the number of this execution (8 bytes, little-endian), then the input.
pub fn read_inflight(path: &Path) -> Option<(u64, Vec<u8>)> {
    let bytes = std::fs::read(path).ok()?;
    let count = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    Some((count, bytes[8..].to_vec()))
}

pub fn fuzz(plan: &Plan) -> Result<()> {
    quiet_panics();
    let scratch = scratch_dir(&plan.dir, std::process::id());
    let mut harness = plan.target.harness(&scratch)?;
    let corpus_dir = plan.dir.join("corpus");
    std::fs::create_dir_all(&corpus_dir).map_err(io(&corpus_dir))?;
    let seeds = plan.target.seeds();
    let first_mutation = if plan.run_seeds { seeds.len() as u64 } else { 0 };
    let mut corpus = seeds;
    corpus.extend(read_files(&corpus_dir)?);
    let mut mutator = Mutator::new(plan.seed, plan.target.dictionary(), plan.target.max_len());
    let inflight_path = plan.dir.join("inflight");
    let inflight = File::create(&inflight_path).map_err(io(&inflight_path))?;
    let (start, mut last_stat) = (Instant::now(), Instant::now());
    let deadline = plan.seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    let mut outcomes = HashSet::new();
    let mut out = std::io::stdout().lock();
    let mut execs = 0u64;
    while plan.execs.is_none_or(|n| execs < n) && deadline.is_none_or(|d| Instant::now() < d) {
        let input = if execs < first_mutation {
            corpus[execs as usize].clone()
        } else {
            let base = &corpus[mutator.rng.below(corpus.len())];
            mutator.mutate(base, &corpus)
        };
        execs += 1;
        // The input in flight and its number, for the parent if this process dies (no sync:
        // the page cache outlives the process).
        inflight
            .set_len(0)
            .and_then(|_| inflight.write_all_at(&execs.to_le_bytes(), 0))
            .and_then(|_| inflight.write_all_at(&input, 8))
            .map_err(io(&inflight_path))?;
        match run_one(&mut harness, &input) {
            Ok(outcome) => {
                if outcomes.insert(outcome) && corpus.len() < MAX_CORPUS {
                    let path = corpus_dir.join(format!("{:016x}", fnv(&input)));
                    std::fs::write(&path, &input).map_err(io(&path))?;
                    corpus.push(input);
                }
            }
            Err((signature, detail)) => {
                if let Some(path) = findings::save(&plan.dir, "panic", &signature, &input, &detail)? {
                    let _ = writeln!(out, "@fuzz finding {}", path.display());
                }
            }
        }
        if last_stat.elapsed() >= STAT_EVERY {
            let _ = writeln!(out, "@fuzz stat {execs} {}", corpus.len());
            let _ = out.flush();
            last_stat = Instant::now();
        }
    }
    let _ = writeln!(out, "@fuzz done {execs} {}", corpus.len());
    let _ = out.flush();
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Run one saved input: its outcome on stdout, or its panic on stderr and `false`.
pub fn replay(target: Target, dir: &Path, file: &Path) -> Result<bool> {
    quiet_panics();
    let input = read_input(file)?;
    let scratch = scratch_dir(dir, std::process::id());
    let mut harness = target.harness(&scratch)?;
    let result = run_one(&mut harness, &input);
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(outcome) => {
            println!("{outcome}");
            Ok(true)
        }
        Err((_, detail)) => {
            eprintln!("{detail}");
            Ok(false)
        }
    }
}

/// A saved input: raw bytes, or hex text (`.hex`, as the regression fixtures are kept in git).
fn read_input(file: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(file).map_err(io(file))?;
    if file.extension().and_then(|x| x.to_str()) != Some("hex") {
        return Ok(bytes);
    }
    let digits: Vec<u8> = bytes.into_iter().filter(|b| b.is_ascii_hexdigit()).collect();
    let value = |d: u8| (d as char).to_digit(16).expect("a hex digit") as u8;
    Ok(digits.chunks(2).filter(|c| c.len() == 2).map(|c| value(c[0]) << 4 | value(c[1])).collect())
}

/// The files of a folder (not its sub-folders), sorted by name; none when it does not exist.
pub fn read_files(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).map_err(io(p))).collect()
}
