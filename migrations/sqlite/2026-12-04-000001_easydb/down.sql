DROP TABLE easydb_sessions;
ALTER TABLE organizations DROP COLUMN rights_version;
ALTER TABLE organizations DROP COLUMN system_rights;
ALTER TABLE users DROP COLUMN rights_version;
ALTER TABLE users DROP COLUMN system_rights;
