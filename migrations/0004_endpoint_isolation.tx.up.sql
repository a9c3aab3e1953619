-- Endpoint isolation: a per-endpoint rate limit and in-flight cap (0 =
-- none), and the failure streak that drives auto-disable. failing_since is
-- set by the first failed attempt after a success and cleared by the next
-- success; both updates only write when the state changes, so a busy
-- endpoint's row is not rewritten per delivery.
ALTER TABLE endpoints
    ADD COLUMN rate_limit    integer NOT NULL DEFAULT 0,
    ADD COLUMN max_in_flight integer NOT NULL DEFAULT 0,
    ADD COLUMN failing_since timestamptz,
    ADD COLUMN disabled_at   timestamptz;
