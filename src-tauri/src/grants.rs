//! The files the web view may have the shell read: only those the person dropped on the window
//! or picked in a dialog (and what lies under a dropped or picked folder). The UI names paths;
//! the shell checks them here, so a compromised page cannot import `/etc/shadow`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Grants(Mutex<HashSet<PathBuf>>);

impl Grants {
    pub fn grant(&self, paths: impl IntoIterator<Item = PathBuf>) {
        self.0.lock().expect("grants").extend(paths);
    }

    /// Whether `path` (or a folder it lies in) was dropped or picked.
    fn allows(&self, path: &Path) -> bool {
        let granted = self.0.lock().expect("grants");
        path.ancestors().any(|a| granted.contains(a))
    }

    /// `path` if it was granted. A drop reaches the web view and the shell's window handler as
    /// two events in no fixed order, so a path is waited for briefly before it is refused.
    pub fn check(&self, path: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_millis(500);
        while !self.allows(path) {
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: not dropped on the window or picked in a dialog; Pagewise only reads files you give it",
                    path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_what_was_granted_and_below_it_only() {
        let g = Grants::default();
        g.grant([PathBuf::from("/home/a/Invoices"), PathBuf::from("/home/a/scan.png")]);
        assert!(g.check(Path::new("/home/a/Invoices/2024/x.pdf")).is_ok());
        assert!(g.check(Path::new("/home/a/scan.png")).is_ok());
        assert!(g.check(Path::new("/home/a/other.pdf")).is_err());
        assert!(g.check(Path::new("/etc/shadow")).is_err());
    }
}
