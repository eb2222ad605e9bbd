-- The whole first schema. Invariants live here, not only in code:
-- tags and numbers unique per app, at most one active release per app,
-- release content immutable, activation history append-only.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE orgs (
    org_id     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

CREATE TABLE tokens (
    token_id      TEXT PRIMARY KEY,
    org_id        TEXT REFERENCES orgs (org_id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_digest TEXT NOT NULL UNIQUE,
    permissions   TEXT NOT NULL,
    workspace_ids TEXT,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL
) STRICT;
CREATE INDEX tokens_by_org ON tokens (org_id, token_id);

CREATE TABLE workspaces (
    workspace_id TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (org_id),
    name         TEXT NOT NULL,
    description  TEXT,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;
CREATE INDEX workspaces_by_org ON workspaces (org_id, workspace_id);

CREATE TABLE apps (
    app_id       TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (org_id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (workspace_id),
    name         TEXT NOT NULL,
    description  TEXT,
    parameters   TEXT NOT NULL,
    -- content hash of the current draft, kept current by every draft change
    draft_hash   TEXT NOT NULL,
    -- the highest release number this app ever had: numbers are never reused
    release_seq  INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
) STRICT;
CREATE INDEX apps_by_workspace ON apps (workspace_id, app_id);

CREATE TABLE augmentations (
    augmentation_id TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    body            TEXT NOT NULL,
    UNIQUE (app_id, name)
) STRICT;
CREATE INDEX augmentations_by_app ON augmentations (app_id, augmentation_id);

CREATE TABLE endpoints (
    endpoint_id     TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    augmentation_id TEXT NOT NULL REFERENCES augmentations (augmentation_id),
    body            TEXT NOT NULL,
    UNIQUE (app_id, method, path),
    UNIQUE (app_id, name)
) STRICT;
CREATE INDEX endpoints_by_app ON endpoints (app_id, endpoint_id);
CREATE INDEX endpoints_by_augmentation ON endpoints (augmentation_id);

CREATE TABLE releases (
    release_id          TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    workspace_id        TEXT NOT NULL,
    org_id              TEXT NOT NULL,
    release_tag         TEXT NOT NULL,
    release_number      INTEGER NOT NULL CHECK (release_number > 0),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'ready', 'active', 'archived')),
    description         TEXT,
    endpoint_count      INTEGER NOT NULL,
    augmentation_count  INTEGER NOT NULL,
    content_hash        TEXT NOT NULL,
    activated_at        INTEGER,
    activated_by        TEXT,
    created_at          INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    previous_release_id TEXT,
    change_log          TEXT NOT NULL,
    snapshot            TEXT NOT NULL,
    UNIQUE (app_id, release_tag),
    UNIQUE (app_id, release_number)
) STRICT;
CREATE UNIQUE INDEX releases_one_active_per_app ON releases (app_id) WHERE status = 'active';

CREATE TRIGGER releases_content_is_immutable
BEFORE UPDATE OF release_id, app_id, workspace_id, org_id, release_tag, release_number,
    description, endpoint_count, augmentation_count, content_hash, created_at, created_by,
    previous_release_id, change_log, snapshot
ON releases
BEGIN
    SELECT RAISE(ABORT, 'release content is immutable');
END;

CREATE TABLE activations (
    sequence            INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id              TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    release_id          TEXT NOT NULL,
    replaced_release_id TEXT,
    action              TEXT NOT NULL CHECK (action IN ('activate', 'rollback')),
    actor               TEXT NOT NULL,
    at                  INTEGER NOT NULL
) STRICT;
CREATE INDEX activations_by_app ON activations (app_id, sequence);

CREATE TRIGGER activations_are_append_only
BEFORE UPDATE ON activations
BEGIN
    SELECT RAISE(ABORT, 'activation history is append-only');
END;
