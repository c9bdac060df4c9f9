DROP TABLE user_authorized_applications;
DROP TABLE server_keys;
DROP TABLE oauth_access_tokens;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_authorization_codes;
