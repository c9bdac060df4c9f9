-- easydb right presets (easydb-rights.md 7, 8): per context, with _id (num_id, unique
-- across contexts), _version and _position. Positions are unique per context, checked by
-- the domain after a whole request (two presets may swap them in one POST), so there is
-- no unique index on them.
CREATE TABLE right_presets (
    num_id INTEGER PRIMARY KEY AUTOINCREMENT,
    context TEXT NOT NULL,
    position BIGINT NOT NULL,
    version BIGINT NOT NULL,
    -- localisation maps and the preset's rights specification and tag filter, as JSON
    displayname TEXT NOT NULL,
    description TEXT NOT NULL,
    rights TEXT NOT NULL,
    tagfilter TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX right_presets_context ON right_presets(context, position);
