ALTER TABLE books DROP COLUMN cache_read_tokens;
ALTER TABLE books DROP COLUMN cache_creation_tokens;
ALTER TABLE llm_calls DROP COLUMN cache_read_tokens;
ALTER TABLE llm_calls DROP COLUMN cache_creation_tokens;
