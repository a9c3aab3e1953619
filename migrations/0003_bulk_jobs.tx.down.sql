DROP INDEX IF EXISTS deliveries_failed;
--bun:split
DROP TABLE IF EXISTS bulk_jobs;
