DROP INDEX jobs_queued_order;
DROP INDEX jobs_running_lease;
DROP SEQUENCE jobs_fence_seq;
