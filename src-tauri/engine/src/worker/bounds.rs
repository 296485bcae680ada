//! What a worker may spend: memory (an address-space limit it sets on itself) and time (each
//! reply must come within a step's time, or the parent kills it). Both can be lowered by the
//! environment, for tests and for machines with little memory.
//!
//! Also the test hook that proves a crashing, hanging or memory-hungry worker costs only its
//! file: `PAGEWISE_WORKER_TEST_HOOK=crash:MARKER` (or `hang:`, `hog:`) makes a worker misbehave
//! on any file that contains the bytes MARKER. It acts only inside a worker process.

use std::time::Duration;

use super::protocol::Request;

/// A worker's address space, in MiB, unless `PAGEWISE_WORKER_MEMORY_MB` says otherwise: room
/// for the largest page Pagewise draws (200 megapixels in RGBA is 800 MB) twice over, and
/// pdfium's own buffers.
pub const MEMORY_MB: u64 = 4096;

/// The longest one step may take (opening a file, reading or drawing one page, decoding one
/// image), unless `PAGEWISE_WORKER_SECONDS` says otherwise.
pub const STEP_SECONDS: u64 = 120;

pub fn memory_mb() -> u64 {
    env_number("PAGEWISE_WORKER_MEMORY_MB").unwrap_or(MEMORY_MB)
}

pub fn step_time() -> Duration {
    Duration::from_secs(env_number("PAGEWISE_WORKER_SECONDS").unwrap_or(STEP_SECONDS))
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok().filter(|n| *n > 0)
}

/// Cap this process's address space (a worker calls it first): a decompression bomb makes an
/// allocation fail in the worker, never the parent's memory grow.
pub fn limit_own_memory() {
    #[cfg(unix)]
    {
        let bytes = memory_mb().saturating_mul(1 << 20) as libc::rlim_t;
        let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
        // SAFETY: setrlimit reads the struct we pass; lowering a limit needs no privilege.
        unsafe {
            libc::setrlimit(libc::RLIMIT_AS, &limit);
        }
    }
}

/// The test hook (see the module's comment), checked before each request.
pub fn test_hook(request: &Request) {
    let Ok(hook) = std::env::var("PAGEWISE_WORKER_TEST_HOOK") else { return };
    let Some((action, marker)) = hook.split_once(':') else { return };
    let path = match request {
        Request::ReadPdf { path, .. }
        | Request::DrawPdfPage { path, .. }
        | Request::ImagePages { path, .. }
        | Request::DecodeImage { path, .. }
        | Request::RepairPdf { path, .. } => path,
    };
    let contains = std::fs::read(path).is_ok_and(|b| b.windows(marker.len()).any(|w| w == marker.as_bytes()));
    if !contains || marker.is_empty() {
        return;
    }
    match action {
        "crash" => crash(),
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        "hog" => {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(vec![1u8; 256 << 20]);
                std::hint::black_box(&kept);
            }
        }
        _ => {}
    }
}

/// Die as a segfault in a native library would.
fn crash() -> ! {
    #[cfg(unix)]
    // SAFETY: raising a signal; SIGSEGV's default action ends the process here.
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::raise(libc::SIGSEGV);
    }
    std::process::abort()
}
