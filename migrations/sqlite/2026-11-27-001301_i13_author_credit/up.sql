-- Issue 13: the credit printed on the title and copyright pages of every export. Empty means "use the
-- author's display name" (pen_name) / "the default line" (copyright_line) / "none" (dedication).
ALTER TABLE books ADD COLUMN pen_name TEXT NOT NULL DEFAULT '';
ALTER TABLE books ADD COLUMN dedication TEXT NOT NULL DEFAULT '';
ALTER TABLE books ADD COLUMN copyright_line TEXT NOT NULL DEFAULT '';
