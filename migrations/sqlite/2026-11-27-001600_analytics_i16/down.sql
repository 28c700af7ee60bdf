DROP INDEX users_created;
DROP INDEX events_created;
DROP INDEX chunks_created;
DROP INDEX books_completed;
DROP INDEX books_created;
DROP INDEX llm_calls_created;
DROP TABLE metrics_rollup;
