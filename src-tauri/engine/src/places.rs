//! Where Pagewise finds what it needs at run time, in this order: an environment variable
//! (`PAGEWISE_PDFIUM`, `PAGEWISE_MODELS`, `PAGEWISE_LIBRARY`), beside the executable (or in the
//! `lib/` and `share/` folders of the installation it sits in), and the user's data directory
//! (`~/.local/share/pagewise` on Linux). Never the checkout it was built in: a developer's
//! `cargo run`/`cargo test` gets the checkout's folders through `.cargo/config.toml`.

use std::path::PathBuf;

/// The user's data directory for Pagewise (`~/.local/share/pagewise` on Linux).
pub fn user_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Pagewise", "pagewise").map(|d| d.data_dir().to_path_buf())
}

/// `relative` beside the running executable and in its installation's `lib/`, `lib/pagewise/`
/// and `share/pagewise/` folders (an executable in `/usr/bin` finds `/usr/lib/pagewise/...`).
pub fn beside_executable(relative: &str) -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(PathBuf::from)) else {
        return vec![];
    };
    ["", "../lib", "../lib/pagewise", "../share/pagewise"].iter().map(|up| dir.join(up).join(relative)).collect()
}

/// A path from the environment variable `var`, when it is set.
pub fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}
