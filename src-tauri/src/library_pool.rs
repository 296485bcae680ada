//! The library the app has open, held for the life of the window rather than opened by each
//! command: a few handles, one lent to each piece of work while it runs. A command that finds
//! them all lent (a long import is running, say) opens another, so that paging through a
//! document never waits for the import; SQLite's WAL lets them read while one writes. The
//! handles share one set of passwords: one given in the session opens that document in all.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pagewise_engine::{Library, Result, Secrets};

/// Handles kept open when idle.
const KEEP: usize = 4;

pub struct LibraryPool {
    dir: PathBuf,
    idle: Mutex<Vec<Library>>,
    secrets: Arc<Secrets>,
}

impl LibraryPool {
    pub fn new(dir: PathBuf) -> LibraryPool {
        LibraryPool { dir, idle: Mutex::new(Vec::new()), secrets: Arc::new(Secrets::from_env()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A handle for one piece of work, back in the pool when dropped.
    pub fn get(&self) -> Result<Lent<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let library = match idle {
            Some(library) => library,
            None => Library::open_sharing(&self.dir, self.secrets.clone())?,
        };
        Ok(Lent { pool: self, library: Some(library) })
    }
}

/// A library handle lent to one piece of work.
pub struct Lent<'a> {
    pool: &'a LibraryPool,
    library: Option<Library>,
}

impl Deref for Lent<'_> {
    type Target = Library;
    fn deref(&self) -> &Library {
        self.library.as_ref().expect("lent until dropped")
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Library {
        self.library.as_mut().expect("lent until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.extend(self.library.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_lent_reused_and_opened_when_all_are_out() {
        let dir = tempfile::tempdir().unwrap();
        let pool = LibraryPool::new(dir.path().to_path_buf());
        {
            let (a, b) = (pool.get().unwrap(), pool.get().unwrap());
            assert_eq!(a.count_documents().unwrap() + b.count_documents().unwrap(), 0);
        }
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
        let _again = pool.get().unwrap();
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
    }
}
