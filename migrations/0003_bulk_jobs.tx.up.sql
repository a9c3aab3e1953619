-- Bulk redelivery jobs. A job re-sends a team's failed deliveries that match
-- filter, in throttled batches run by the worker. Progress lives here, not
-- in Redis: cursor is the last delivery id handled, so a job resumes where
-- it stopped after a worker restart or a lost task. upto is the highest
-- matching id when the job started, so deliveries that fail later are not
-- swept into it and total stays meaningful.
CREATE TABLE bulk_jobs (
    id          text PRIMARY KEY,
    team_id     text NOT NULL,
    kind        text NOT NULL DEFAULT 'redeliver',
    filter      jsonb NOT NULL DEFAULT '{}',
    total       integer NOT NULL,
    done        integer NOT NULL DEFAULT 0,
    cursor      text NOT NULL DEFAULT '',
    upto        text NOT NULL DEFAULT '',
    batch_size  integer NOT NULL DEFAULT 100,
    pause_ms    integer NOT NULL DEFAULT 1000,
    status      text NOT NULL DEFAULT 'running',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    CHECK (status IN ('running', 'cancelled', 'finished'))
);
CREATE INDEX bulk_jobs_team ON bulk_jobs (team_id, id DESC);
CREATE INDEX bulk_jobs_running ON bulk_jobs (id) WHERE status = 'running';

--bun:split

-- Failed deliveries are what people look for and bulk jobs walk, by id
-- (ids are ULIDs, so id ranges are time ranges). Partial: failed rows are
-- few next to the succeeded ones, and ingest never writes this index.
CREATE INDEX deliveries_failed ON deliveries (team_id, id) WHERE status = 'failed';
