-- Backfill from Stripe's Events API (issue 12). A Stripe source may hold a
-- restricted API key (rk_…, read access to Events), sealed like the ingest
-- token (secret.Box.SealString bound to the source id): only a backfill
-- opens it, and no page or answer ever shows it again.
ALTER TABLE sources ADD COLUMN api_key_sealed text;

--bun:split

-- A backfill job lists a source's events since a time and ingests those
-- the relay never stored. Progress lives here so the dashboard of any
-- replica shows it: pages read, events found, new (not stored before),
-- ingested, and reached (the creation time of the oldest event listed so
-- far: Stripe lists newest first, so (started - reached) / (started -
-- since) is how far the job got). A job that stopped with its worker is
-- run again from the start by the task's retry; events it already stored
-- are found and skipped.
CREATE TABLE backfill_jobs (
    id          text PRIMARY KEY,
    team_id     text NOT NULL,
    source_id   text NOT NULL,
    since       timestamptz NOT NULL,
    types       text[] NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'running',
    pages       integer NOT NULL DEFAULT 0,
    found       integer NOT NULL DEFAULT 0,
    new         integer NOT NULL DEFAULT 0,
    ingested    integer NOT NULL DEFAULT 0,
    reached     timestamptz,
    error       text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    CHECK (status IN ('running', 'cancelled', 'finished', 'failed'))
);
CREATE INDEX backfill_jobs_team ON backfill_jobs (team_id, id DESC);
