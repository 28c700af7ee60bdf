DROP TABLE chapter_versions;
ALTER TABLE chapters DROP COLUMN revised_at;
ALTER TABLE chapters DROP COLUMN revised_by;
ALTER TABLE chapters DROP COLUMN revision_kind;
