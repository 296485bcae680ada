//! Passwords of encrypted PDFs, kept out of the library: in the operating system's keyring
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), one entry per
//! library and document (service `pagewise`, account `<library id>/<document id>`).
//!
//! Where no keyring can be reached (a headless machine without a Secret Service, or
//! `PAGEWISE_KEYRING=none`), a password is kept in this process's memory only: never written to
//! disk, and asked for again when a later session must draw that document's pages. A file beside
//! the library would be the plaintext the keyring exists to avoid, merely moved; the pages' text
//! was read at import, so only drawing them needs the password again.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::DocId;
use crate::{Error, Result};

/// The keyring service name the entries are filed under.
const SERVICE: &str = "pagewise";

/// Where a password was put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// In the operating system's keyring: later sessions find it.
    Keyring,
    /// In this process's memory only (no keyring): later sessions ask for it again.
    Session,
}

/// A store of named secrets: the OS keyring, or a test double.
pub(crate) trait Vault: Send {
    /// `Ok(None)` when no secret has that name.
    fn get(&self, name: &str) -> std::result::Result<Option<String>, String>;
    fn set(&self, name: &str, secret: &str) -> std::result::Result<(), String>;
    /// Deleting a name that holds nothing is no error.
    fn delete(&self, name: &str) -> std::result::Result<(), String>;
}

/// The operating system's keyring through the `keyring` crate.
struct OsKeyring;

impl Vault for OsKeyring {
    fn get(&self, name: &str) -> std::result::Result<Option<String>, String> {
        match keyring::Entry::new(SERVICE, name).and_then(|e| e.get_password()) {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
    fn set(&self, name: &str, secret: &str) -> std::result::Result<(), String> {
        keyring::Entry::new(SERVICE, name).and_then(|e| e.set_password(secret)).map_err(|e| e.to_string())
    }
    fn delete(&self, name: &str) -> std::result::Result<(), String> {
        match keyring::Entry::new(SERVICE, name).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The passwords of one process: the keyring (if one answers) and those given in this session.
pub struct Secrets {
    inner: Mutex<Inner>,
}

struct Inner {
    vault: Option<Box<dyn Vault>>,
    /// Whether the vault answered a first question; asked once, so that a machine without a
    /// keyring pays for finding out once per process.
    reachable: Option<bool>,
    session: HashMap<String, String>,
    /// A password given for this run (the CLI's `--password`), tried on documents with none kept.
    offered: Option<String>,
}

fn name(library: &str, doc: &DocId) -> String {
    format!("{library}/{}", doc.0)
}

impl Secrets {
    /// The OS keyring, unless `PAGEWISE_KEYRING=none` asks for session-only passwords.
    pub fn from_env() -> Secrets {
        let off = std::env::var("PAGEWISE_KEYRING").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
        Secrets::with_vault(if off { None } else { Some(Box::new(OsKeyring)) })
    }

    pub(crate) fn with_vault(vault: Option<Box<dyn Vault>>) -> Secrets {
        let reachable = if vault.is_none() { Some(false) } else { None };
        Secrets { inner: Mutex::new(Inner { vault, reachable, session: HashMap::new(), offered: None }) }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether passwords outlive this process (a keyring answers).
    pub fn persistent(&self) -> bool {
        self.inner().vault().is_some()
    }

    /// Keep `password` for `doc`: in the keyring when one answers, else for this session. A
    /// keyring that answers but refuses (locked, access denied) leaves it in the session too.
    pub fn keep(&self, library: &str, doc: &DocId, password: &str) -> Kept {
        let mut inner = self.inner();
        let key = name(library, doc);
        inner.session.insert(key.clone(), password.to_string());
        match inner.vault().map(|v| v.set(&key, password)) {
            Some(Ok(())) => Kept::Keyring,
            _ => Kept::Session,
        }
    }

    /// Move a password found in an older library into the keyring. Without a keyring it is
    /// dropped (the library keeps no plaintext); a keyring that refuses stops the move.
    pub fn move_in(&self, library: &str, doc: &DocId, password: &str) -> Result<()> {
        let mut inner = self.inner();
        let key = name(library, doc);
        match inner.vault().map(|v| v.set(&key, password)) {
            Some(Err(detail)) => Err(Error::Keyring { detail }),
            _ => Ok(()),
        }
    }

    /// The password kept for `doc`, else the one offered for this run, else none.
    pub fn password(&self, library: &str, doc: &DocId) -> Option<String> {
        let mut inner = self.inner();
        let key = name(library, doc);
        if let Some(p) = inner.session.get(&key) {
            return Some(p.clone());
        }
        let kept = inner.vault().and_then(|v| v.get(&key).ok().flatten());
        kept.or_else(|| inner.offered.clone())
    }

    /// A password to try on encrypted documents that have none kept (given for one run).
    pub fn offer(&self, password: Option<String>) {
        self.inner().offered = password.filter(|p| !p.is_empty());
    }

    /// Forget `doc`'s password, here and in the keyring.
    pub fn forget(&self, library: &str, doc: &DocId) -> Result<()> {
        let mut inner = self.inner();
        let key = name(library, doc);
        inner.session.remove(&key);
        match inner.vault().map(|v| v.delete(&key)) {
            Some(Err(detail)) => Err(Error::Keyring { detail }),
            _ => Ok(()),
        }
    }
}

impl Inner {
    /// The vault, if it answers (asked once per process).
    fn vault(&mut self) -> Option<&dyn Vault> {
        if self.reachable.is_none() {
            let probe = self.vault.as_ref().map(|v| v.get(&format!("probe/{}", std::process::id())));
            self.reachable = Some(matches!(probe, Some(Ok(_))));
        }
        if self.reachable == Some(true) {
            self.vault.as_deref()
        } else {
            None
        }
    }
}

/// An in-memory keyring for tests, shared by clones so a test can look inside it.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct MemoryVault {
    pub entries: std::sync::Arc<Mutex<HashMap<String, String>>>,
    /// Answers like a keyring that is there but refuses (locked).
    pub refuse: bool,
}

#[cfg(test)]
impl Vault for MemoryVault {
    fn get(&self, name: &str) -> std::result::Result<Option<String>, String> {
        Ok(self.entries.lock().unwrap().get(name).cloned())
    }
    fn set(&self, name: &str, secret: &str) -> std::result::Result<(), String> {
        if self.refuse {
            return Err("the collection is locked".into());
        }
        self.entries.lock().unwrap().insert(name.into(), secret.into());
        Ok(())
    }
    fn delete(&self, name: &str) -> std::result::Result<(), String> {
        self.entries.lock().unwrap().remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: u8) -> DocId {
        DocId(format!("{n:02x}").repeat(32))
    }

    #[test]
    fn a_keyring_keeps_passwords_per_library_and_document() {
        let vault = MemoryVault::default();
        let secrets = Secrets::with_vault(Some(Box::new(vault.clone())));
        assert!(secrets.persistent());
        assert_eq!(secrets.keep("lib-a", &doc(1), "s3cret"), Kept::Keyring);
        assert_eq!(vault.entries.lock().unwrap().get(&format!("lib-a/{}", doc(1).0)).unwrap(), "s3cret");
        // A later process finds it in the keyring, and only for that library and document.
        let later = Secrets::with_vault(Some(Box::new(vault.clone())));
        assert_eq!(later.password("lib-a", &doc(1)).as_deref(), Some("s3cret"));
        assert_eq!(later.password("lib-b", &doc(1)), None);
        assert_eq!(later.password("lib-a", &doc(2)), None);
        later.forget("lib-a", &doc(1)).unwrap();
        assert!(vault.entries.lock().unwrap().is_empty());
        assert_eq!(Secrets::with_vault(Some(Box::new(vault))).password("lib-a", &doc(1)), None);
    }

    #[test]
    fn without_a_keyring_passwords_last_the_session_only() {
        let secrets = Secrets::with_vault(None);
        assert!(!secrets.persistent());
        assert_eq!(secrets.keep("lib", &doc(1), "s3cret"), Kept::Session);
        assert_eq!(secrets.password("lib", &doc(1)).as_deref(), Some("s3cret"));
        assert_eq!(Secrets::with_vault(None).password("lib", &doc(1)), None);
        // Moving an old password in with no keyring drops it: nothing is written anywhere.
        secrets.move_in("lib", &doc(2), "old").unwrap();
        assert_eq!(secrets.password("lib", &doc(2)), None);
        // A password offered for the run is tried where none is kept.
        secrets.offer(Some("given".into()));
        assert_eq!(secrets.password("lib", &doc(2)).as_deref(), Some("given"));
        assert_eq!(secrets.password("lib", &doc(1)).as_deref(), Some("s3cret"));
    }

    #[test]
    fn a_keyring_that_refuses_stops_a_move_and_keeps_new_ones_for_the_session() {
        let vault = MemoryVault { refuse: true, ..Default::default() };
        let secrets = Secrets::with_vault(Some(Box::new(vault)));
        assert_eq!(secrets.move_in("lib", &doc(1), "old").unwrap_err().kind(), "keyring");
        assert_eq!(secrets.keep("lib", &doc(1), "new"), Kept::Session);
        assert_eq!(secrets.password("lib", &doc(1)).as_deref(), Some("new"));
    }
}
