//! Cached page layouts, per analyzer (mode and version).

use std::collections::HashMap;

use rusqlite::params;

use super::Store;
use crate::model::DocId;
use crate::model::PageLayout;
use crate::Result;

impl Store {
    /// The layouts stored for a document under `key` (e.g. `auto@1`), by page number.
    pub fn stored_layouts(&self, id: &DocId, key: &str) -> Result<HashMap<u32, PageLayout>> {
        let mut stmt = self.conn.prepare_cached("SELECT page, layout FROM layouts WHERE doc_id = ?1 AND mode = ?2")?;
        let rows = stmt.query_map(params![id.0, key], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (page, json) = row?;
            // A layout that no longer parses is analysed again rather than failing the page.
            if let Ok(layout) = serde_json::from_str::<PageLayout>(&json) {
                out.insert(page, layout);
            }
        }
        Ok(out)
    }

    pub fn store_layouts(&self, id: &DocId, key: &str, layouts: &[&PageLayout]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO layouts (doc_id, page, mode, layout) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for l in layouts {
                stmt.execute(params![id.0, l.page, key, serde_json::to_string(l).expect("layouts serialise")])?;
            }
        }
        Ok(tx.commit()?)
    }
}
