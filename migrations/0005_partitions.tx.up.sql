-- Retention: events and delivery_attempts become range-partitioned by day
-- (UTC), so expiring a day is DROP TABLE of one partition instead of a
-- DELETE that scans and bloats the table. The maintenance task
-- (maintenance:retention) creates the next days' partitions ahead of time
-- and drops the expired ones; a DEFAULT partition catches any row outside
-- the existing days (a clock far off, a missed maintenance run), so an
-- insert never fails for want of a partition.
--
-- The tables may hold data: new partitioned tables are built, the rows
-- copied, and the names swapped, all inside this migration's transaction.

CREATE TABLE events_new (
    id                text NOT NULL,
    team_id           text NOT NULL,
    source_id         text NOT NULL,
    received_at       timestamptz NOT NULL,
    provider_event_id text,
    event_type        text NOT NULL DEFAULT '',
    content_type      text NOT NULL DEFAULT '',
    headers           jsonb NOT NULL DEFAULT '{}',
    body              bytea NOT NULL,
    verified          boolean NOT NULL,
    -- body_dropped: the payload was removed by HOOKRELAY_PAYLOAD_RETENTION
    -- (body is empty); the event itself is kept until HOOKRELAY_RETENTION.
    body_dropped      boolean NOT NULL DEFAULT false
) PARTITION BY RANGE (received_at);
CREATE TABLE events_default PARTITION OF events_new DEFAULT;

CREATE TABLE delivery_attempts_new (
    delivery_id      text NOT NULL,
    n                integer NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      integer NOT NULL,
    url              text NOT NULL,
    request_headers  jsonb NOT NULL DEFAULT '{}',
    response_status  integer NOT NULL DEFAULT 0,
    response_headers jsonb NOT NULL DEFAULT '{}',
    response_body    bytea,
    error            text NOT NULL DEFAULT '',
    manual           boolean NOT NULL DEFAULT false
) PARTITION BY RANGE (started_at);
CREATE TABLE delivery_attempts_default PARTITION OF delivery_attempts_new DEFAULT;

--bun:split

-- One partition per day that holds rows, plus today and the next 7 days,
-- created before the rows are copied so nothing lands in DEFAULT. Names are
-- <table>_pYYYYMMDD: the maintenance task reads the day from the name.
DO $$
DECLARE
    t record;
    d date;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('events', 'received_at'), ('delivery_attempts', 'started_at')) AS v(name, col) LOOP
        FOR d IN EXECUTE format(
            'SELECT DISTINCT (%I AT TIME ZONE ''UTC'')::date FROM %I
             UNION SELECT (now() AT TIME ZONE ''UTC'')::date + i FROM generate_series(0, 7) AS i', t.col, t.name)
        LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                t.name || '_p' || to_char(d, 'YYYYMMDD'), t.name || '_new',
                d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        END LOOP;
    END LOOP;
END $$;

--bun:split

INSERT INTO events_new (id, team_id, source_id, received_at, provider_event_id, event_type, content_type,
    headers, body, verified)
SELECT id, team_id, source_id, received_at, provider_event_id, event_type, content_type, headers, body, verified
FROM events;

INSERT INTO delivery_attempts_new (delivery_id, n, started_at, duration_ms, url, request_headers,
    response_status, response_headers, response_body, error, manual)
SELECT delivery_id, n, started_at, duration_ms, url, request_headers, response_status, response_headers,
    response_body, error, manual
FROM delivery_attempts;

--bun:split

-- Deduplication across partitions. A unique key on a partitioned table must
-- contain the partition key, so UNIQUE (source_id, provider_event_id) cannot
-- live on events any more (a retry arriving a day later would land in
-- another partition and not collide). This small unpartitioned table holds
-- the key instead; InsertEvent(s) write it in the same statement as the
-- event, and only events whose key was new are inserted. Rows older than
-- the retention are trimmed by received_at (bounded index-range deletes),
-- so a provider's retry is absorbed for as long as the event is kept.
CREATE TABLE event_keys (
    source_id         text NOT NULL,
    provider_event_id text NOT NULL,
    event_id          text NOT NULL,
    received_at       timestamptz NOT NULL,
    PRIMARY KEY (source_id, provider_event_id)
);
INSERT INTO event_keys (source_id, provider_event_id, event_id, received_at)
SELECT source_id, provider_event_id, id, received_at FROM events WHERE provider_event_id IS NOT NULL;
CREATE INDEX event_keys_received ON event_keys (received_at);

--bun:split

DROP TABLE events;
DROP TABLE delivery_attempts;
ALTER TABLE events_new RENAME TO events;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

--bun:split

-- Indexes are built after the copy (faster), on the parents, so every
-- partition, present or attached later, gets them.
--
-- The primary key must include the partition key. Lookups by id alone
-- (dashboard, API) probe each partition's index; the delivery hot path
-- (ClaimAttempt) also joins on received_at = deliveries.created_at, which
-- ingest sets equal, so it touches one partition.
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, received_at);
CREATE INDEX events_team_received ON events (team_id, id DESC);
CREATE INDEX events_source ON events (source_id, id DESC);
-- Not unique any more (event_keys is), but FindEvent looks events up by
-- the provider's id.
CREATE INDEX events_source_provider ON events (source_id, provider_event_id);
-- Only the DEFAULT partition is searched by time (to expire its stray
-- rows, and to move them when their day's partition is created); the day
-- partitions never need this index.
CREATE INDEX events_default_received ON events_default (received_at);

-- The attempt number alone was the key. Attempt numbers stay unique per
-- delivery without a constraint: ClaimAttempt moves attempts from n-1 to n
-- atomically, so only one task ever holds attempt n, and only the holder
-- inserts row n (a stale or repeated task fails its claim first). The key
-- below adds started_at because it must contain the partition key; it
-- still makes an exact replay of one attempt's insert a no-op.
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_pkey PRIMARY KEY (delivery_id, n, started_at);
CREATE INDEX delivery_attempts_default_started ON delivery_attempts_default (started_at);

--bun:split

-- The event partitions whose payloads HOOKRELAY_PAYLOAD_RETENTION already
-- emptied, so each partition is rewritten once, not rescanned every run.
CREATE TABLE payload_expired_partitions (
    partition  text PRIMARY KEY,
    expired_at timestamptz NOT NULL
);

--bun:split

ANALYZE events;
ANALYZE delivery_attempts;
ANALYZE event_keys;
