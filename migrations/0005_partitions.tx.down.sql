-- Back to plain tables. Payloads already emptied stay empty. Should a
-- provider event id have been stored twice (possible only after its key
-- aged out of event_keys), the oldest event is kept.
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_team_received, events_source, events_source_provider;
ALTER TABLE events RENAME TO events_part;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_pkey;
ALTER TABLE delivery_attempts RENAME TO delivery_attempts_part;

--bun:split

CREATE TABLE events (
    id                text PRIMARY KEY,
    team_id           text NOT NULL,
    source_id         text NOT NULL,
    received_at       timestamptz NOT NULL,
    provider_event_id text,
    event_type        text NOT NULL DEFAULT '',
    content_type      text NOT NULL DEFAULT '',
    headers           jsonb NOT NULL DEFAULT '{}',
    body              bytea NOT NULL,
    verified          boolean NOT NULL,
    UNIQUE (source_id, provider_event_id)
);
INSERT INTO events (id, team_id, source_id, received_at, provider_event_id, event_type, content_type,
    headers, body, verified)
SELECT id, team_id, source_id, received_at, provider_event_id, event_type, content_type, headers, body, verified
FROM events_part ORDER BY id
ON CONFLICT DO NOTHING;
CREATE INDEX events_team_received ON events (team_id, id DESC);
CREATE INDEX events_source ON events (source_id, id DESC);

--bun:split

CREATE TABLE delivery_attempts (
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
    manual           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (delivery_id, n)
);
INSERT INTO delivery_attempts (delivery_id, n, started_at, duration_ms, url, request_headers,
    response_status, response_headers, response_body, error, manual)
SELECT delivery_id, n, started_at, duration_ms, url, request_headers, response_status, response_headers,
    response_body, error, manual
FROM delivery_attempts_part ORDER BY started_at
ON CONFLICT DO NOTHING;

--bun:split

DROP TABLE events_part, delivery_attempts_part, event_keys, payload_expired_partitions;
