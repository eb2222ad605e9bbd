-- The whole first schema, the PostgreSQL twin of the SQLite one (same tables,
-- columns, index and trigger names). Invariants live here, not only in code:
-- tags and numbers unique per app, at most one active release per app,
-- release content immutable, activation history append-only.
-- Ids use the "C" collation so they sort byte-wise, as in SQLite (keyset pages).
-- Timestamps are BIGINT microseconds; JSON bodies are TEXT (exact round-trip).

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE orgs (
    org_id     TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL CONSTRAINT orgs_slug_unique UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE tokens (
    token_id      TEXT COLLATE "C" PRIMARY KEY,
    org_id        TEXT COLLATE "C" REFERENCES orgs (org_id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_digest TEXT NOT NULL CONSTRAINT tokens_secret_digest_unique UNIQUE,
    permissions   TEXT NOT NULL,
    workspace_ids TEXT,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX tokens_by_org ON tokens (org_id, token_id);

CREATE TABLE workspaces (
    workspace_id TEXT COLLATE "C" PRIMARY KEY,
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES orgs (org_id),
    name         TEXT NOT NULL,
    description  TEXT,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    CONSTRAINT workspaces_org_name_unique UNIQUE (org_id, name)
);
CREATE INDEX workspaces_by_org ON workspaces (org_id, workspace_id);

CREATE TABLE apps (
    app_id       TEXT COLLATE "C" PRIMARY KEY,
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES orgs (org_id),
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (workspace_id),
    name         TEXT NOT NULL,
    description  TEXT,
    parameters   TEXT NOT NULL,
    -- content hash of the current draft, kept current by every draft change
    draft_hash   TEXT NOT NULL,
    -- the highest release number this app ever had: numbers are never reused
    release_seq  BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT apps_workspace_name_unique UNIQUE (workspace_id, name)
);
CREATE INDEX apps_by_workspace ON apps (workspace_id, app_id);

CREATE TABLE augmentations (
    augmentation_id TEXT COLLATE "C" PRIMARY KEY,
    app_id          TEXT COLLATE "C" NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    body            TEXT NOT NULL,
    CONSTRAINT augmentations_app_name_unique UNIQUE (app_id, name)
);
CREATE INDEX augmentations_by_app ON augmentations (app_id, augmentation_id);

CREATE TABLE endpoints (
    endpoint_id     TEXT COLLATE "C" PRIMARY KEY,
    app_id          TEXT COLLATE "C" NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    augmentation_id TEXT COLLATE "C" NOT NULL REFERENCES augmentations (augmentation_id),
    body            TEXT NOT NULL,
    CONSTRAINT endpoints_app_route_unique UNIQUE (app_id, method, path),
    CONSTRAINT endpoints_app_name_unique UNIQUE (app_id, name)
);
CREATE INDEX endpoints_by_app ON endpoints (app_id, endpoint_id);
CREATE INDEX endpoints_by_augmentation ON endpoints (augmentation_id);

CREATE TABLE releases (
    release_id          TEXT COLLATE "C" PRIMARY KEY,
    app_id              TEXT COLLATE "C" NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    workspace_id        TEXT COLLATE "C" NOT NULL,
    org_id              TEXT COLLATE "C" NOT NULL,
    release_tag         TEXT NOT NULL,
    release_number      BIGINT NOT NULL CHECK (release_number > 0),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'ready', 'active', 'archived')),
    description         TEXT,
    endpoint_count      BIGINT NOT NULL,
    augmentation_count  BIGINT NOT NULL,
    content_hash        TEXT NOT NULL,
    activated_at        BIGINT,
    activated_by        TEXT,
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    previous_release_id TEXT COLLATE "C",
    change_log          TEXT NOT NULL,
    snapshot            TEXT NOT NULL,
    CONSTRAINT releases_app_tag_unique UNIQUE (app_id, release_tag),
    CONSTRAINT releases_app_number_unique UNIQUE (app_id, release_number)
);
CREATE UNIQUE INDEX releases_one_active_per_app ON releases (app_id) WHERE status = 'active';

CREATE FUNCTION releases_refuse_content_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'release content is immutable';
END;
$$;

CREATE TRIGGER releases_content_is_immutable
BEFORE UPDATE OF release_id, app_id, workspace_id, org_id, release_tag, release_number,
    description, endpoint_count, augmentation_count, content_hash, created_at, created_by,
    previous_release_id, change_log, snapshot
ON releases
FOR EACH ROW EXECUTE FUNCTION releases_refuse_content_change();

CREATE TABLE activations (
    sequence            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id              TEXT COLLATE "C" NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    release_id          TEXT COLLATE "C" NOT NULL,
    replaced_release_id TEXT COLLATE "C",
    action              TEXT NOT NULL CHECK (action IN ('activate', 'rollback')),
    actor               TEXT NOT NULL,
    at                  BIGINT NOT NULL
);
CREATE INDEX activations_by_app ON activations (app_id, sequence);

CREATE FUNCTION activations_refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activation history is append-only';
END;
$$;

CREATE TRIGGER activations_are_append_only
BEFORE UPDATE ON activations
FOR EACH ROW EXECUTE FUNCTION activations_refuse_update();
