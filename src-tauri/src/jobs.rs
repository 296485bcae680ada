//! Long work (import, extraction) that the UI can cancel: each job has a token the UI chose and
//! a cancel flag the engine checks between files.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Jobs(Mutex<HashMap<u32, Arc<AtomicBool>>>);

impl Jobs {
    /// A job's cancel flag, registered until the returned guard drops.
    pub fn start(self: &Arc<Self>, job: u32) -> JobGuard {
        let flag = Arc::new(AtomicBool::new(false));
        self.0.lock().expect("jobs").insert(job, flag.clone());
        JobGuard { jobs: self.clone(), job, flag }
    }

    pub fn cancel(&self, job: u32) -> bool {
        self.0.lock().expect("jobs").get(&job).map(|f| f.store(true, Ordering::Relaxed)).is_some()
    }
}

pub struct JobGuard {
    jobs: Arc<Jobs>,
    job: u32,
    pub flag: Arc<AtomicBool>,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.jobs.0.lock().expect("jobs").remove(&self.job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancels_a_running_job_and_forgets_it_when_done() {
        let jobs = Arc::new(Jobs::default());
        let guard = jobs.start(7);
        assert!(jobs.cancel(7));
        assert!(guard.flag.load(Ordering::Relaxed));
        drop(guard);
        assert!(!jobs.cancel(7));
    }
}
