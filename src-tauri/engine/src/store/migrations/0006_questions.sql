-- Questions asked about a document, newest last, with the answer given (JSON of ask::Answer),
-- so the desktop app can show a document's history of questions.
CREATE TABLE questions (
    id        INTEGER PRIMARY KEY,
    doc_id    TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page      INTEGER,
    question  TEXT NOT NULL,
    answer    TEXT NOT NULL,
    asked_at  INTEGER NOT NULL
);
CREATE INDEX questions_by_doc ON questions (doc_id, id);
