//! Process-wide resources loaded on first use (libpdfium, the OCR reader, the layout detector):
//! a load that succeeds is kept for the life of the process; one that fails is not, so it is
//! tried again once the missing file is there.

use std::sync::{Mutex, OnceLock};

pub(crate) struct Loaded<T> {
    value: OnceLock<T>,
    loading: Mutex<()>,
}

impl<T> Loaded<T> {
    pub(crate) const fn new() -> Self {
        Loaded { value: OnceLock::new(), loading: Mutex::new(()) }
    }

    /// The loaded value, loading it now if no earlier load succeeded (one load at a time).
    pub(crate) fn get_or_load<E>(&self, load: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let _one_at_a_time = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let v = load()?;
        Ok(self.value.get_or_init(|| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_load_is_tried_again_and_a_success_kept() {
        let slot: Loaded<u32> = Loaded::new();
        assert_eq!(slot.get_or_load(|| Err::<u32, &str>("not there yet")), Err("not there yet"));
        assert_eq!(slot.get_or_load(|| Ok::<u32, &str>(7)), Ok(&7));
        assert_eq!(slot.get_or_load(|| Err::<u32, &str>("never asked")), Ok(&7));
    }
}
