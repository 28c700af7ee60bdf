ALTER TABLE books DROP COLUMN copyright_line;
ALTER TABLE books DROP COLUMN dedication;
ALTER TABLE books DROP COLUMN pen_name;
