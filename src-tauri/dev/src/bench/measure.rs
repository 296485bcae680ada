//! What the benchmarks share: peak resident memory, and the reference runtimes they are
//! measured beside (Python scripts of scripts/ in a venv of the checkout).

use std::path::PathBuf;

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Peak resident memory of this process since start or the last reset (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

/// Reset VmHWM to the current resident size (Linux: write 5 to clear_refs); returns that size.
pub fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    proc_status_kib("VmRSS:")
}

/// Run a reference script of scripts/ with the Python of a venv of the checkout
/// (`.venv-reference`: onnxruntime and friends, made by `bash scripts/dev.sh reference`;
/// `.venv-torch`: PyTorch and transformers, `bash scripts/dev.sh vlm-reference`;
/// `.venv-pymupdf`: PyMuPDF's layout, `bash scripts/dev.sh pymupdf-reference`), or
/// $PAGEWISE_REFERENCE_PYTHON; its stdout's last line is JSON.
pub fn run_reference(
    venv: &str,
    script: &str,
    args: &[std::ffi::OsString],
) -> std::result::Result<serde_json::Value, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("PAGEWISE_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(venv).join("bin/python"));
    if !python.exists() {
        let setup = match venv {
            ".venv-torch" => "vlm-reference",
            ".venv-pymupdf" => "pymupdf-reference",
            _ => "reference",
        };
        return Err(format!("no reference Python at {}; run `bash scripts/dev.sh {setup}`", python.display()));
    }
    let out = std::process::Command::new(&python)
        .arg(root.join(script))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .map_err(|e| format!("unexpected output from {script}: {e}"))
}
