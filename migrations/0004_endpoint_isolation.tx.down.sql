ALTER TABLE endpoints DROP COLUMN rate_limit, DROP COLUMN max_in_flight, DROP COLUMN failing_since, DROP COLUMN disabled_at;
