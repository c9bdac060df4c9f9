-- Browser sessions of /oauth2/authorize (keyrock.md 5.3): the session id is stored only as
-- its SHA-256 digest; a session goes with its user.
CREATE TABLE browser_sessions (
    digest TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX browser_sessions_user ON browser_sessions(user_id);
