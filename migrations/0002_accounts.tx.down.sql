DROP TABLE IF EXISTS invites, sessions, memberships, users;
