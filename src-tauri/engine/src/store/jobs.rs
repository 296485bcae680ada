//! Jobs as rows: what a batch set out to do, how far it got, and each file's outcome.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{now, Store};
use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobItem {
    pub path: String,
    pub doc_id: Option<String>,
    pub status: String,
    pub error: Option<crate::ErrorReport>,
}

impl Store {
    pub fn start_job(&self, kind: &str, total: usize) -> Result<i64> {
        self.writable()?;
        self.conn.execute(
            "INSERT INTO jobs (kind, state, total, created_at, updated_at) VALUES (?1, 'running', ?2, ?3, ?3)",
            params![kind, total as i64, now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn record_job_item(&self, job: i64, item: &JobItem) -> Result<()> {
        let failed = item.error.is_some() as i64;
        self.conn.execute(
            "INSERT INTO job_items (job_id, path, doc_id, status, error_kind, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                job,
                item.path,
                item.doc_id,
                item.status,
                item.error.as_ref().map(|e| &e.kind),
                item.error.as_ref().map(|e| &e.message)
            ],
        )?;
        self.conn.execute(
            "UPDATE jobs SET done = done + 1, failed = failed + ?2, updated_at = ?3 WHERE id = ?1",
            params![job, failed, now()],
        )?;
        Ok(())
    }

    pub fn finish_job(&self, job: i64, state: &str) -> Result<()> {
        self.conn.execute("UPDATE jobs SET state = ?2, updated_at = ?3 WHERE id = ?1", params![job, state, now()])?;
        Ok(())
    }
}
