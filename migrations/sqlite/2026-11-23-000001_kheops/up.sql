-- KHEOPS family (kheops.md 4, 5, 6): albums, memberships, capability tokens.
CREATE TABLE albums (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_time TIMESTAMP NOT NULL,
    last_event_time TIMESTAMP NOT NULL,
    add_user_permission BOOLEAN NOT NULL DEFAULT FALSE,
    download_series_permission BOOLEAN NOT NULL DEFAULT TRUE,
    send_series_permission BOOLEAN NOT NULL DEFAULT TRUE,
    delete_series_permission BOOLEAN NOT NULL DEFAULT FALSE,
    add_series_permission BOOLEAN NOT NULL DEFAULT TRUE,
    write_comments_permission BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE album_users (
    album_id TEXT NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (album_id, user_id)
);
CREATE INDEX album_users_user_id ON album_users(user_id);

-- An album without members does not exist (kheops.md 4.3, 4.4): whether the last member
-- left or was deleted with their user account.
CREATE TRIGGER album_users_last_member AFTER DELETE ON album_users
BEGIN
    DELETE FROM albums WHERE id = OLD.album_id
        AND NOT EXISTS (SELECT 1 FROM album_users WHERE album_id = OLD.album_id);
END;

CREATE TABLE capabilities (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 hex of the secret; the secret itself is never stored.
    secret_sha256 TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    scope_type TEXT NOT NULL CHECK (scope_type IN ('user', 'album')),
    album_id TEXT REFERENCES albums(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_permission BOOLEAN NOT NULL,
    write_permission BOOLEAN NOT NULL,
    download_permission BOOLEAN NOT NULL,
    appropriate_permission BOOLEAN NOT NULL,
    issued_at_time TIMESTAMP NOT NULL,
    not_before_time TIMESTAMP NOT NULL,
    expiration_time TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    revoke_time TIMESTAMP,
    revoked_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    updated_time TIMESTAMP NOT NULL,
    CHECK ((scope_type = 'album') = (album_id IS NOT NULL))
);
CREATE INDEX capabilities_user_id ON capabilities(user_id, issued_at_time);
CREATE INDEX capabilities_album_id ON capabilities(album_id, issued_at_time);
CREATE INDEX capabilities_revoked_by ON capabilities(revoked_by);
