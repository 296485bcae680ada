-- Extracted field values per document and schema, with their evidence (JSON). `input_key`
-- fingerprints what the value was computed from (the field's definition, the document's text,
-- the extractor's version) so a rerun recomputes only what changed; `corrected` marks a value a
-- person set, which extraction never overwrites.
CREATE TABLE field_values (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    schema     TEXT NOT NULL,
    field      TEXT NOT NULL,
    value      TEXT NOT NULL,
    corrected  INTEGER NOT NULL DEFAULT 0,
    input_key  TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (doc_id, schema, field)
);
