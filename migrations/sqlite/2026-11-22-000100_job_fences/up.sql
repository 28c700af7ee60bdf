-- Fencing tokens for job claims (PostgreSQL uses a sequence): one row, bumped inside the claiming
-- immediate transaction, so fences are strictly increasing across all jobs.
CREATE TABLE job_fence (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO job_fence (id, value) SELECT 1, COALESCE(MAX(fence), 0) FROM jobs;
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE status = 'running';
