//! What the CPU kernels share, below all of them: whether the CPU has AVX2 and FMA and a loop
//! run compiled for them, a tensor's floats read in place, and the output buffer that parallel
//! tasks write disjoint parts of.

use candle_core::{CpuStorage, Layout};

/// The floats of a contiguous f32 tensor's storage.
pub(super) fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { candle_core::bail!("expected an f32 tensor") };
    let Some((a, b)) = l.contiguous_offsets() else { candle_core::bail!("expected a contiguous tensor") };
    Ok(&v[a..b])
}

/// Whether this CPU has AVX2 and FMA, for the loops compiled with them (each caller keeps the
/// check inside its `cfg(target_arch = "x86_64")`).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Run a loop compiled for AVX2 and FMA when the CPU has them (the build targets plain
/// x86-64, whose SSE2 is half as wide and has no fused multiply-add); as it is elsewhere.
#[inline(always)]
pub(super) fn with_simd(f: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide(f: impl FnOnce()) {
            f()
        }
        if has_avx2_fma() {
            // SAFETY: the features were just detected on this CPU.
            return unsafe { wide(f) };
        }
    }
    f()
}

/// The output buffer, shared by bands that write disjoint parts of it.
#[derive(Clone, Copy)]
pub(crate) struct SharedOut(pub(crate) *mut f32);
// SAFETY: the tasks sharing one write disjoint parts of it (see conv::convolve).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: callers stay within the buffer.
        unsafe { self.0.add(offset) }
    }
}
