-- Core relay schema. Ids are text with a kind prefix and a ULID, so they sort
-- by creation time and say what they are in logs and URLs.

CREATE TABLE teams (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- API tokens are stored as SHA-256 hashes: a token is 32 random bytes, so a
-- slow hash buys nothing and the lookup must be one index probe per request.
CREATE TABLE api_tokens (
    id           text PRIMARY KEY,
    team_id      text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name         text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

--bun:split

-- secrets is a JSON array of {id, kid, ct, created_at, expires_at}: ct is
-- AES-256-GCM ciphertext (base64) under key kid; several entries are active
-- during a rotation. config holds only non-secret verification settings.
CREATE TABLE sources (
    id           text PRIMARY KEY,
    team_id      text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name         text NOT NULL,
    provider     text NOT NULL,
    ingest_token text NOT NULL UNIQUE,
    config       jsonb NOT NULL DEFAULT '{}',
    secrets      jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sources_team ON sources (team_id, id);

--bun:split

-- event_types empty means every type. retry_schedule empty means the
-- configured default. timeout_ms 0 means the configured default.
CREATE TABLE endpoints (
    id              text PRIMARY KEY,
    team_id         text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    event_types     text[] NOT NULL DEFAULT '{}',
    signing_scheme  text NOT NULL DEFAULT 'standard-webhooks',
    secrets         jsonb NOT NULL DEFAULT '[]',
    headers         jsonb NOT NULL DEFAULT '{}',
    timeout_ms      integer NOT NULL DEFAULT 0,
    retry_schedule  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_team ON endpoints (team_id, id);

--bun:split

CREATE TABLE subscriptions (
    endpoint_id text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    source_id   text NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, endpoint_id)
);
CREATE INDEX subscriptions_endpoint ON subscriptions (endpoint_id);

--bun:split

-- The unique key absorbs a provider's retries of one event (NULL ids, from
-- providers without one, never collide). No foreign keys on the hot ingest
-- tables: an FK check plan cached while a table was empty turned every
-- insert into a sequential scan (LIBRARY-NOTES), and sources are only
-- deleted together with their events by the application.
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
CREATE INDEX events_team_received ON events (team_id, id DESC);
CREATE INDEX events_source ON events (source_id, id DESC);

--bun:split

-- attempts counts attempts started. A pending delivery's next task is
-- attempt attempts+1; next_attempt_at is when it is due (or, while an
-- attempt runs, when its lease runs out), which is what the sweeper reads.
CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    team_id         text NOT NULL,
    event_id        text NOT NULL,
    endpoint_id     text NOT NULL,
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled'))
);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id DESC);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

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

--bun:split

CREATE TABLE rejected_requests (
    id          text PRIMARY KEY,
    team_id     text NOT NULL,
    source_id   text NOT NULL,
    received_at timestamptz NOT NULL,
    reason      text NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    headers     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX rejected_requests_source ON rejected_requests (source_id, id DESC);

--bun:split

CREATE TABLE audit_log (
    id          text PRIMARY KEY,
    team_id     text NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    target_kind text NOT NULL DEFAULT '',
    target_id   text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    ip          text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_team ON audit_log (team_id, id DESC);

--bun:split

-- The audit log is append-only: the database itself refuses changes, so a
-- bug (or a compromised admin path) cannot rewrite history.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;

--bun:split

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
