DROP TABLE continuity_findings;
ALTER TABLE books DROP COLUMN continuity_audit;
