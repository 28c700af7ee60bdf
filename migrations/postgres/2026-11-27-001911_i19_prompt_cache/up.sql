-- Issue 19: prompt caching. `input_tokens` stays the input billed at the base rate; the input written
-- to and read from the provider's prompt cache (billed at the cache rates) is counted apart, per call
-- (the usage ledger) and per book.
ALTER TABLE llm_calls ADD COLUMN cache_creation_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE llm_calls ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE books ADD COLUMN cache_creation_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE books ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
