//! Stored field values (extraction results and people's corrections).

use rusqlite::{params, OptionalExtension};

use super::{now, Store};
use crate::model::DocId;
use crate::model::FieldValue;
use crate::Result;

/// A stored value with what it was computed from.
pub struct StoredField {
    pub value: FieldValue,
    pub corrected: bool,
    pub input_key: String,
}

impl Store {
    pub fn stored_field(&self, id: &DocId, schema: &str, field: &str) -> Result<Option<StoredField>> {
        let row = self
            .conn
            .query_row(
                "SELECT value, corrected, input_key FROM field_values WHERE doc_id = ?1 AND schema = ?2 AND field = ?3",
                params![id.0, schema, field],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?)),
            )
            .optional()?;
        // A value that no longer parses (an older format) is computed again.
        Ok(row.and_then(|(json, corrected, input_key)| {
            serde_json::from_str(&json).ok().map(|value| StoredField { value, corrected, input_key })
        }))
    }

    pub fn store_field(
        &self,
        id: &DocId,
        schema: &str,
        value: &FieldValue,
        corrected: bool,
        input_key: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO field_values (doc_id, schema, field, value, corrected, input_key, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id.0,
                schema,
                value.field,
                serde_json::to_string(value).expect("field values serialise"),
                corrected,
                input_key,
                now()
            ],
        )?;
        Ok(())
    }
}
