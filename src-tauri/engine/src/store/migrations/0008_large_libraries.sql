-- Large libraries: the library list pages through an index in its own order, and counts each
-- document's pages by source from an index instead of reading every page's row (words and all).
CREATE INDEX documents_listed ON documents (added_at, name, id);
CREATE INDEX pages_by_source ON pages (doc_id, source);

-- Pages whose blocks were embedded for search by meaning, even when none had text enough to
-- embed: a search embeds only pages not listed here (a page read again leaves the list).
CREATE TABLE embedded_pages (
    doc_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page    INTEGER NOT NULL,
    PRIMARY KEY (doc_id, page)
) WITHOUT ROWID;
INSERT INTO embedded_pages SELECT DISTINCT doc_id, page FROM block_embeddings;
