-- Hexoskin bundle permissions (hexoskin-bundles.md): bundles, the permissions granted
-- through them, the e-mailed permission requests (stored only as the SHA-256 digest of
-- their token) and the durable mail queue (§3) that carries the request e-mails.

-- A bundle names a set of access rights. name_key is the lower-cased name: names are
-- unique case-insensitively. permissions is a comma-separated, ordered subset of
-- "read,write". Bundles are never changed or deleted.
CREATE TABLE bundles (
    num_id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

INSERT INTO bundles (name, name_key, description, permissions, created_at) VALUES
    ('friend', 'friend', 'Friends and relatives: may view the target''s data', 'read', CURRENT_TIMESTAMP),
    ('coach', 'coach', 'Coach: may view the athlete''s data', 'read', CURRENT_TIMESTAMP),
    ('admin', 'admin', 'Administrator: may view and edit the target''s data', 'read,write', CURRENT_TIMESTAMP);

-- A granted permission: user_allowed may use the bundle's rights over user_target's data.
-- Deleting either user deletes the permission (§2.1).
CREATE TABLE bundle_permissions (
    num_id BIGSERIAL PRIMARY KEY,
    bundle_id BIGINT NOT NULL REFERENCES bundles(num_id),
    user_allowed TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_target TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- free label, at most 255 characters
    name TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (bundle_id, user_allowed, user_target)
);
CREATE INDEX bundle_permissions_allowed ON bundle_permissions(user_allowed);
CREATE INDEX bundle_permissions_target ON bundle_permissions(user_target);

-- A pending proposal to create a bundle permission, accepted by user_target through the
-- token only the e-mail carries. token_digest is the SHA-256 hex of the token; NULL until
-- the first delivery attempt mints one (each attempt mints a new token and replaces it, so
-- at most one token works at any time).
-- created_by is the caller who made the request (user_allowed or an admin); it only names
-- the admin in the e-mail, so deleting that user keeps the request.
CREATE TABLE bundle_permission_requests (
    num_id BIGSERIAL PRIMARY KEY,
    token_digest TEXT UNIQUE,
    bundle_id BIGINT NOT NULL REFERENCES bundles(num_id),
    user_allowed TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_target TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    redeem_url TEXT,
    expires_at TIMESTAMP NOT NULL,
    redeemed_at TIMESTAMP,
    email_sent BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX bundle_permission_requests_allowed ON bundle_permission_requests(user_allowed);
CREATE INDEX bundle_permission_requests_target ON bundle_permission_requests(user_target);

-- The durable mail queue (§3): a message row is written in the same transaction as its
-- request and sent by the request handler or, after a failure, by the background sender
-- (backoff 30 s doubling up to 1 h, failed after 24 h). claimed_until is a node's lease.
-- request_id ON DELETE CASCADE: a request deleted (withdrawn, declined, or its user
-- deleted) before its e-mail went out must not be mailed any more: its link could no
-- longer work. Sent and failed rows go with their request. The body never holds the
-- token: its link line is a placeholder that delivery replaces in memory.
CREATE TABLE mail_queue (
    num_id BIGSERIAL PRIMARY KEY,
    request_id BIGINT REFERENCES bundle_permission_requests(num_id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP,
    claimed_until TIMESTAMP,
    last_error TEXT
);
CREATE INDEX mail_queue_due ON mail_queue(next_attempt_at);
CREATE INDEX mail_queue_request ON mail_queue(request_id);
