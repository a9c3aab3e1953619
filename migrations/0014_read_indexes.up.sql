-- The events list filtered by delivery status (issue 10, "dashboard and API
-- at size"). ListEvents walks a team's events newest first and keeps those
-- with a delivery in the status; with only deliveries_event to check that,
-- PostgreSQL merged the events with every team's deliveries in event order,
-- fetching each delivery to read its status: 4-6 s for status=failed at
-- 4 M events. This index lists one team's deliveries in a status
-- other than succeeded in event order, so the same merge reads only those.
--
-- Partial: only deliveries that are not succeeded, which is what people
-- filter for (pending: what is stuck, failed, cancelled). The write cost:
-- ingest inserts each delivery pending, so one more index entry per
-- delivery (the row already has four: pkey, event, endpoint, due); a
-- delivery that succeeds writes nothing here (a status change already
-- updates the row's indexes, since status is in the predicates of
-- deliveries_due and deliveries_failed: such an UPDATE is never HOT), and
-- its dead entry goes with vacuum. Without it, status=pending for a team
-- with nothing pending read every delivery of every team (minutes at 10 M).

-- CONCURRENTLY (this file runs outside a transaction): a large deliveries
-- table stays writable while the index is built. If the build fails, the
-- index is left INVALID; DROP INDEX deliveries_team_status_event and run
-- `hookrelay migrate up` again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS deliveries_team_status_event
    ON deliveries (team_id, status, event_id DESC) WHERE status <> 'succeeded';
