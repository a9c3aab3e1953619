-- Held deliveries of paused endpoints become due at once: without the
-- column the worker would not hold them any more anyway.
UPDATE deliveries d SET next_attempt_at = now()
    FROM endpoints ep WHERE ep.id = d.endpoint_id AND ep.paused_at IS NOT NULL AND d.status = 'pending';

ALTER TABLE endpoints
    DROP COLUMN paused_at,
    DROP COLUMN last_disabled_at,
    DROP COLUMN reenabled_at;
