-- Dashboard accounts. Emails are unique case-insensitively. Sessions and
-- invites store only SHA-256 hashes of their random tokens: a database
-- dump cannot be replayed as a login or an invite.

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

--bun:split

CREATE TABLE memberships (
    team_id    text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

--bun:split

-- team_id is the team the session is looking at; switching teams updates it.
CREATE TABLE sessions (
    hash         bytea PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    user_id      text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id      text,
    csrf_token   text NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

--bun:split

CREATE TABLE invites (
    id          text PRIMARY KEY,
    team_id     text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    hash        bytea NOT NULL UNIQUE,
    email       text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text
);
CREATE INDEX invites_team ON invites (team_id, id DESC);
