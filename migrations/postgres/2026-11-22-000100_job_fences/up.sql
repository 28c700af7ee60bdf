-- Fencing tokens for job claims: one global, strictly increasing counter, so a job reclaimed after a
-- lost lease (or a later job for the same book) always carries a higher fence than any earlier owner.
CREATE SEQUENCE jobs_fence_seq;
SELECT setval('jobs_fence_seq', GREATEST((SELECT MAX(fence) FROM jobs), 0) + 1, false);
-- The sweeper looks for expired leases among running jobs.
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE status = 'running';
-- The claim scans queued jobs in claim order (priority is the queue's, so `priority = ANY(..)` picks the
-- queues); without it every claim sorts all queued rows.
CREATE INDEX jobs_queued_order ON jobs (priority, run_at, created_at) WHERE status = 'queued';
