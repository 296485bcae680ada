-- Sentence embeddings of page blocks for semantic search (all-MiniLM-L6-v2, 384 f32, little
-- endian), computed the first time a semantic search needs them.
CREATE TABLE block_embeddings (
    doc_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page    INTEGER NOT NULL,
    block   INTEGER NOT NULL,
    text    TEXT NOT NULL,
    vector  BLOB NOT NULL,
    PRIMARY KEY (doc_id, page, block)
);
