-- easydb rights (easydb-rights.md): system rights on users and organizations, each set
-- with its _version (optimistic concurrency: an update names the version it read), and
-- easydb sessions, stored only as the SHA-256 digest of their token.

-- A rights specification of the system context as JSON, canonical right names only.
ALTER TABLE users ADD COLUMN system_rights TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN rights_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN system_rights TEXT NOT NULL DEFAULT '{}';
ALTER TABLE organizations ADD COLUMN rights_version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE easydb_sessions (
    digest TEXT PRIMARY KEY NOT NULL,
    language TEXT NOT NULL,
    -- NULL while the session is not authenticated; deleting the user ends the session
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    authenticated_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX easydb_sessions_user ON easydb_sessions(user_id);
CREATE INDEX easydb_sessions_expires ON easydb_sessions(expires_at);
