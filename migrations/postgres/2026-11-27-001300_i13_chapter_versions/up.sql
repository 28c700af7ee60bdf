-- Issue 13: every change of a chapter's text keeps the previous text as a version. The chapter itself
-- records how its current text came to be (original / edit / regenerate / restore), by whom and when.
ALTER TABLE chapters ADD COLUMN revision_kind TEXT NOT NULL DEFAULT 'original';
ALTER TABLE chapters ADD COLUMN revised_by TEXT;
ALTER TABLE chapters ADD COLUMN revised_at TIMESTAMP;

CREATE TABLE chapter_versions (
    id TEXT PRIMARY KEY NOT NULL,
    book_id TEXT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    chapter_index INTEGER NOT NULL,
    number INTEGER NOT NULL,
    content TEXT NOT NULL,
    words INTEGER NOT NULL,
    kind TEXT NOT NULL,
    author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL,
    UNIQUE (book_id, chapter_index, number)
);
