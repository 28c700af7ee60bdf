-- Analytics (issue 16): a small roll-up of the time series, and indexes that let the roll-up read the
-- recent rows of each source table by time.
CREATE TABLE metrics_rollup (
    width_secs INTEGER NOT NULL,
    slot BIGINT NOT NULL,
    series TEXT NOT NULL,
    dim TEXT NOT NULL,
    value DOUBLE NOT NULL,
    PRIMARY KEY (width_secs, slot, series, dim)
);
CREATE INDEX llm_calls_created ON llm_calls (created_at);
CREATE INDEX books_created ON books (created_at);
CREATE INDEX books_completed ON books (completed_at);
CREATE INDEX chunks_created ON chunks (created_at);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX users_created ON users (created_at);
