-- Keyrock OAuth2 (keyrock.md 5, 7): authorization codes, refresh and access tokens, stored
-- only as SHA-256 digests; the server's signing key; the consent records of /user.
-- Every row goes with its application, user or IoT agent (ON DELETE CASCADE): deleting
-- one of them revokes its tokens.

CREATE TABLE oauth_authorization_codes (
    digest TEXT PRIMARY KEY NOT NULL,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- the granted scope items, comma-separated, in request order
    scope TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    nonce TEXT,
    expires_at TIMESTAMP NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_codes_client ON oauth_authorization_codes(oauth_client_id);
CREATE INDEX oauth_codes_user ON oauth_authorization_codes(user_id);

CREATE TABLE oauth_refresh_tokens (
    digest TEXT PRIMARY KEY NOT NULL,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    iot_agent_id TEXT REFERENCES iot_agents(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- the authorization code this token was issued from (a replayed code revokes it)
    code_digest TEXT,
    -- used (rotated) or revoked
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_refresh_client ON oauth_refresh_tokens(oauth_client_id);
CREATE INDEX oauth_refresh_user ON oauth_refresh_tokens(user_id);
CREATE INDEX oauth_refresh_iot ON oauth_refresh_tokens(iot_agent_id);
CREATE INDEX oauth_refresh_code ON oauth_refresh_tokens(code_digest);

CREATE TABLE oauth_access_tokens (
    digest TEXT PRIMARY KEY NOT NULL,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    iot_agent_id TEXT REFERENCES iot_agents(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    -- NULL: a permanent token
    expires_at TIMESTAMP,
    -- the refresh token issued together with this one (revoking it revokes this token)
    refresh_digest TEXT,
    code_digest TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_access_client ON oauth_access_tokens(oauth_client_id);
CREATE INDEX oauth_access_user ON oauth_access_tokens(user_id);
CREATE INDEX oauth_access_iot ON oauth_access_tokens(iot_agent_id);
CREATE INDEX oauth_access_refresh ON oauth_access_tokens(refresh_digest);
CREATE INDEX oauth_access_code ON oauth_access_tokens(code_digest);

-- The server's RS256 signing key (keyrock.md 5.7): one row, shared by every node.
CREATE TABLE server_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    -- PKCS#8 PEM of the private key
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Consent records (keyrock.md 5.3, 6.3): the attributes a user shares with an application.
CREATE TABLE user_authorized_applications (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    -- comma-separated attribute names (username, email, gravatar, ...)
    shared_attributes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, oauth_client_id)
);
CREATE INDEX user_authorized_applications_client ON user_authorized_applications(oauth_client_id);
