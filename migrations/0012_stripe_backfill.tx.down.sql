DROP TABLE backfill_jobs;

--bun:split

ALTER TABLE sources DROP COLUMN api_key_sealed;
