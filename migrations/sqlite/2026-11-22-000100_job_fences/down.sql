DROP INDEX jobs_running_lease;
DROP TABLE job_fence;
