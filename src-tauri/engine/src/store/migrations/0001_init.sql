-- Documents are identified by the sha256 of their bytes.
CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    pages       INTEGER NOT NULL,
    encrypted   INTEGER NOT NULL DEFAULT 0,
    -- Kept so encrypted pages can be rendered later; the library is the user's own, local.
    password    TEXT,
    added_at    INTEGER NOT NULL
);

CREATE TABLE pages (
    doc_id        TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page          INTEGER NOT NULL,
    width         REAL NOT NULL,
    height        REAL NOT NULL,
    rotation      INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL,
    text          TEXT NOT NULL DEFAULT '',
    -- JSON arrays of Word and Line (see doc.rs); boxes in page points, origin top-left.
    words         TEXT NOT NULL DEFAULT '[]',
    lines         TEXT NOT NULL DEFAULT '[]',
    -- Image pages: the DPI and EXIF orientation the pixels were measured with.
    dpi           REAL,
    orientation   INTEGER,
    error_kind    TEXT,
    error_message TEXT,
    PRIMARY KEY (doc_id, page)
);

CREATE VIRTUAL TABLE page_fts USING fts5(
    text,
    doc_id UNINDEXED,
    page UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Long-running work (imports); a killed batch leaves its row 'running' with what it finished.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);

-- Per-file outcome of a job, so a report survives the process.
CREATE TABLE job_items (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    doc_id      TEXT,
    status      TEXT NOT NULL,
    error_kind  TEXT,
    error_message TEXT
);
CREATE INDEX job_items_job ON job_items(job_id);
