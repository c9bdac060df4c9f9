-- Keyrock core: the identity store every family shares, and Keyrock's seeded built-ins.

CREATE TABLE users (
    num_id BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    -- lower-cased email: uniqueness and login matching are case-insensitive
    email_key TEXT NOT NULL UNIQUE,
    -- bcrypt hash, or a legacy Keyrock HMAC-SHA1 hex digest when password_salt is set
    password_hash TEXT,
    password_salt TEXT,
    date_password TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    description TEXT,
    website TEXT,
    gravatar BOOLEAN NOT NULL DEFAULT FALSE,
    image TEXT NOT NULL DEFAULT 'default',
    extra TEXT,
    starters_tour_ended BOOLEAN NOT NULL DEFAULT FALSE,
    eidas_id TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    -- SHA-256 hex of the client secret; the plaintext is shown once
    secret_digest TEXT,
    url TEXT,
    redirect_uri TEXT,
    redirect_sign_out_uri TEXT,
    image TEXT NOT NULL DEFAULT 'default',
    grant_type TEXT,
    response_type TEXT,
    token_types TEXT,
    jwt_secret TEXT,
    client_type TEXT,
    scope TEXT,
    extra TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE roles (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    is_internal BOOLEAN NOT NULL DEFAULT FALSE,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE
);
CREATE INDEX roles_oauth_client_id ON roles(oauth_client_id);

CREATE TABLE permissions (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    is_internal BOOLEAN NOT NULL DEFAULT FALSE,
    action TEXT,
    resource TEXT,
    xml TEXT,
    is_regex BOOLEAN NOT NULL DEFAULT FALSE,
    authorization_service_header TEXT,
    use_authorization_service_header BOOLEAN NOT NULL DEFAULT FALSE,
    regex_entity_ids TEXT,
    regex_attributes TEXT,
    regex_types TEXT,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE
);
CREATE INDEX permissions_oauth_client_id ON permissions(oauth_client_id);

CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE organizations (
    num_id BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    website TEXT,
    image TEXT NOT NULL DEFAULT 'default',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE user_organizations (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX user_organizations_organization_id ON user_organizations(organization_id);

CREATE TABLE role_assignments (
    num_id BIGSERIAL PRIMARY KEY,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    role_organization TEXT CHECK (role_organization IS NULL OR role_organization IN ('owner', 'member')),
    CHECK ((user_id IS NULL) <> (organization_id IS NULL))
);
CREATE UNIQUE INDEX role_assignments_user ON role_assignments(oauth_client_id, role_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX role_assignments_org ON role_assignments(oauth_client_id, role_id, organization_id, role_organization) WHERE organization_id IS NOT NULL;
CREATE INDEX role_assignments_user_id ON role_assignments(user_id);
CREATE INDEX role_assignments_organization_id ON role_assignments(organization_id);

CREATE TABLE pep_proxies (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 hex of the generated password (legacy Keyrock HMAC-SHA1 when password_salt is set)
    password_digest TEXT NOT NULL,
    password_salt TEXT,
    oauth_client_id TEXT NOT NULL UNIQUE REFERENCES oauth_clients(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE iot_agents (
    id TEXT PRIMARY KEY NOT NULL,
    password_digest TEXT NOT NULL,
    password_salt TEXT,
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX iot_agents_oauth_client_id ON iot_agents(oauth_client_id);

CREATE TABLE trusted_applications (
    oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    trusted_oauth_client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    PRIMARY KEY (oauth_client_id, trusted_oauth_client_id)
);

-- Keyrock API tokens (X-Subject-Token), stored only as SHA-256 hex of the token.
CREATE TABLE api_tokens (
    digest TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    pep_proxy_id TEXT REFERENCES pep_proxies(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK ((user_id IS NULL) <> (pep_proxy_id IS NULL))
);
CREATE INDEX api_tokens_user_id ON api_tokens(user_id);
CREATE INDEX api_tokens_pep_proxy_id ON api_tokens(pep_proxy_id);

-- Keyrock's built-ins (keyrock.md 2.1).
INSERT INTO oauth_clients (id, name, description, grant_type, response_type, token_types)
VALUES ('idm_admin_app', 'idm_admin_app', 'Tessera internal application', '', '', 'bearer');

INSERT INTO roles (id, name, is_internal, oauth_client_id) VALUES
    ('provider', 'Provider', TRUE, 'idm_admin_app'),
    ('purchaser', 'Purchaser', TRUE, 'idm_admin_app');

INSERT INTO permissions (id, name, is_internal, oauth_client_id) VALUES
    ('1', 'Get and assign all internal application roles', TRUE, 'idm_admin_app'),
    ('2', 'Manage the application', TRUE, 'idm_admin_app'),
    ('3', 'Manage roles', TRUE, 'idm_admin_app'),
    ('4', 'Manage authorizations', TRUE, 'idm_admin_app'),
    ('5', 'Get and assign all public application roles', TRUE, 'idm_admin_app'),
    ('6', 'Get and assign only public owned roles', TRUE, 'idm_admin_app');

INSERT INTO role_permissions (role_id, permission_id) VALUES
    ('provider', '1'), ('provider', '2'), ('provider', '3'),
    ('provider', '4'), ('provider', '5'), ('provider', '6'),
    ('purchaser', '5');
