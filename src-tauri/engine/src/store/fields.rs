//! Stored field values (extraction results and people's corrections). A run's values for one
//! document are written in one transaction, stamped with one time: a reader, or a library
//! after a crash, sees all of that run's values for the document or none of them.

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

    /// One document's extracted values for `schema`, each with its input key, in one
    /// transaction. A value a person corrected meanwhile (another process) is left as it is.
    pub fn store_extracted(&self, id: &DocId, schema: &str, values: &[(&FieldValue, &str)]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let at = now();
        for (value, input_key) in values {
            tx.execute(
                "INSERT INTO field_values (doc_id, schema, field, value, corrected, input_key, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)
                 ON CONFLICT (doc_id, schema, field) DO UPDATE SET
                     value = excluded.value, input_key = excluded.input_key, updated_at = excluded.updated_at
                 WHERE corrected = 0",
                params![
                    id.0,
                    schema,
                    value.field,
                    serde_json::to_string(value).expect("field values serialise"),
                    input_key,
                    at
                ],
            )?;
        }
        Ok(tx.commit()?)
    }

    /// A person's value for one field.
    pub fn store_correction(&self, id: &DocId, schema: &str, value: &FieldValue) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO field_values (doc_id, schema, field, value, corrected, input_key, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, 'user', ?5)",
            params![id.0, schema, value.field, serde_json::to_string(value).expect("field values serialise"), now()],
        )?;
        Ok(())
    }
}
