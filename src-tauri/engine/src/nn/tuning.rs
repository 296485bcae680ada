//! Settings of the process the networks run best under: subnormal floats flushed to zero, and
//! freed memory kept for the next step.

/// Treat subnormal floats as zero on this thread and on rayon's worker threads (the MXCSR
/// flags FTZ and DAZ), as inference runtimes do: activations that decay into subnormals (as deep
/// in PP-OCR's detector) otherwise make every multiply on them a hundred times slower, and
/// values below 1e-38 change nothing a network computes. Set once per thread.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    {
        thread_local!(static SET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        #[allow(deprecated)] // _mm_setcsr: the flags have no other interface in std.
        fn set_flags() {
            SET.with(|set| {
                if !set.get() {
                    // SAFETY: only the flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags change.
                    unsafe { std::arch::x86_64::_mm_setcsr(std::arch::x86_64::_mm_getcsr() | 0x8040) };
                    set.set(true);
                }
            })
        }
        static POOL: std::sync::Once = std::sync::Once::new();
        POOL.call_once(|| {
            rayon::broadcast(|_| set_flags());
        });
        set_flags();
    }
}

/// Keep memory freed between a network's steps for the steps after it, as inference runtimes
/// keep an arena: glibc's malloc gives blocks above its mmap threshold (128 KiB at first, 32 MiB
/// at most) back to the kernel when they are freed, so every large activation was faulted in
/// and zeroed page by page again — a fifth of the text detector's time on a 2-core host. Now
/// every block comes from the heap, and the heap is not trimmed as blocks are freed (a limit of
/// 512 MiB gave back half the gain); [`release_freed_memory`] gives it back after a batch.
/// Set once per process; elsewhere than glibc, nothing to do.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes the allocator's settings (with no mmap'd blocks,
            // glibc still maps memory where its heap cannot grow).
            unsafe {
                libc::mallopt(libc::M_MMAP_MAX, 0);
                libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            }
        });
    }
}

/// Give the free memory kept by [`keep_freed_memory`] back to the system (after a batch of
/// documents, whose pages may have needed far more than whatever comes next).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
