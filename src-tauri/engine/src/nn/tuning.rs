//! Settings the networks run best under: subnormal floats flushed to zero, and freed memory
//! kept for the next step. Both change the whole process, so a front end sets them once at
//! start-up ([`tune_process`]); a graph run sets only its own thread's float flags, and only
//! while it runs ([`FlushDenormals`]).

use std::sync::Once;

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

/// Tune the process for the networks. Call once at start-up, from a front end's `main`
/// (a second call sets only the calling thread's flags again):
///
/// - glibc's malloc keeps memory freed between a network's steps for the steps after it, as
///   inference runtimes keep an arena. It gives blocks above its mmap threshold (128 KiB at
///   first, 32 MiB at most) back to the kernel when they are freed, so every large activation
///   was faulted in and zeroed page by page again: a fifth of the text detector's time on a
///   2-core host. Now every block comes from the heap, and the heap is not trimmed as blocks
///   are freed (a limit of 512 MiB gave back half the gain); [`release_freed_memory`] gives it
///   back after a batch. Elsewhere than glibc, nothing to do.
/// - Subnormal floats are treated as zero (MXCSR's FTZ and DAZ flags) on the calling thread and
///   on every thread of rayon's global pool, which runs the networks' kernels, as inference
///   runtimes do: activations that decay into subnormals (as deep in PP-OCR's detector) make
///   every multiply on them a hundred times slower, and values below 1e-38 change nothing a
///   network computes.
pub fn tune_process() {
    static PROCESS: Once = Once::new();
    PROCESS.call_once(|| {
        keep_freed_memory();
        #[cfg(target_arch = "x86_64")]
        rayon::broadcast(|_| swap_ftz_daz(FTZ_DAZ));
    });
    #[cfg(target_arch = "x86_64")]
    swap_ftz_daz(FTZ_DAZ);
}

/// Subnormal floats treated as zero on this thread while the guard lives; the thread's own
/// flags come back when it drops. `Graph::run` holds one, for the threads that
/// [`tune_process`] did not set (the desktop app's blocking threads, say): on them, the
/// subnormals deep in PP-OCR's detector made the steps run on the calling thread about a
/// hundred times slower. The process's other threads are left as they are.
pub(super) struct FlushDenormals {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl FlushDenormals {
    pub(super) fn on_this_thread() -> Self {
        FlushDenormals {
            #[cfg(target_arch = "x86_64")]
            saved: swap_ftz_daz(FTZ_DAZ),
        }
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        swap_ftz_daz(self.saved);
    }
}

/// Set this thread's FTZ and DAZ flags to `flags` (both, or neither); the flags they replace.
#[cfg(target_arch = "x86_64")]
#[allow(deprecated)] // _mm_getcsr and _mm_setcsr: the flags have no other interface in std.
fn swap_ftz_daz(flags: u32) -> u32 {
    use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
    // SAFETY: only the flush-to-zero and denormals-are-zero flags change.
    unsafe {
        let csr = _mm_getcsr();
        _mm_setcsr((csr & !FTZ_DAZ) | (flags & FTZ_DAZ));
        csr & FTZ_DAZ
    }
}

/// glibc's malloc told to keep freed memory: no mmap'd blocks, no trimming (see [`tune_process`]).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's settings (with no mmap'd blocks, glibc still
    // maps memory where its heap cannot grow).
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Give the free memory kept since [`tune_process`] back to the system (after a batch of
/// documents, whose pages may have needed far more than whatever comes next).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    fn the_guard_flushes_subnormals_then_restores_the_threads_flags() {
        let before = swap_ftz_daz(0);
        let tiny = f32::from_bits(1);
        let product = {
            let _flush = FlushDenormals::on_this_thread();
            // black_box: the multiply stays between the flags' changes.
            black_box(black_box(tiny) * black_box(2.0))
        };
        assert_eq!(product.to_bits(), 0, "a subnormal read as zero");
        assert_eq!(black_box(black_box(tiny) * black_box(2.0)).to_bits(), 2, "and as it is once the guard is gone");
        assert_eq!(swap_ftz_daz(before), 0, "neither flag, as before the guard");
    }
}
