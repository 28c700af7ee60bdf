-- The continuity audit: on by default, off per book; its findings per chapter, each with the chapter's
-- own words as evidence. `status` is open, dismissed or applied.
ALTER TABLE books ADD COLUMN continuity_audit BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE continuity_findings (
    id TEXT PRIMARY KEY NOT NULL,
    book_id TEXT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    chapter_index INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity INTEGER NOT NULL,
    quote TEXT NOT NULL,
    explanation TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX continuity_findings_book ON continuity_findings (book_id, chapter_index);
