-- Pausing and replaying (issue 11).
--
-- paused_at: a paused endpoint still gets a delivery row for every event
-- at ingest, but the worker holds them (no attempt is used) until resume
-- makes them due again. It is a separate state from enabled: a disabled
-- endpoint gets no deliveries at all, which is what replay is for.
--
-- last_disabled_at / reenabled_at: the last window in which the endpoint
-- was disabled. disabled_at is cleared when it is enabled again, but the
-- events that arrived meanwhile are still missed; the endpoint page counts
-- them inside this window (bounded, so the count reads a few partitions)
-- and replay starts from last_disabled_at by default.
ALTER TABLE endpoints
    ADD COLUMN paused_at        timestamptz,
    ADD COLUMN last_disabled_at timestamptz,
    ADD COLUMN reenabled_at     timestamptz;

UPDATE endpoints SET last_disabled_at = disabled_at WHERE disabled_at IS NOT NULL;
