-- Drawn graphics of a page (ruling lines, pictures, drawings) as JSON (see read/graphics.rs).
ALTER TABLE pages ADD COLUMN graphics TEXT NOT NULL DEFAULT '{}';

-- The layout of each analysed page (layout::PageLayout as JSON), and which analyzer made it.
CREATE TABLE layouts (
    doc_id   TEXT NOT NULL,
    page     INTEGER NOT NULL,
    mode     TEXT NOT NULL,
    layout   TEXT NOT NULL,
    PRIMARY KEY (doc_id, page, mode),
    FOREIGN KEY (doc_id, page) REFERENCES pages(doc_id, page) ON DELETE CASCADE
);
