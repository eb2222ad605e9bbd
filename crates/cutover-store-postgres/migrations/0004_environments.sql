-- Environments of a workspace (docs/API.md, "Environments"). A new workspace gets the
-- three starting ones in the transaction that creates it; workspaces created before
-- this migration get them from the store's backfill when it opens.
CREATE TABLE environments (
    environment_id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id   TEXT COLLATE "C" NOT NULL REFERENCES workspaces (workspace_id),
    name           TEXT NOT NULL,
    slug           TEXT COLLATE "C" NOT NULL,
    description    TEXT,
    is_default     BOOLEAN NOT NULL,
    protected      BOOLEAN NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT environments_workspace_slug_unique UNIQUE (workspace_id, slug)
);
CREATE INDEX environments_by_workspace ON environments (workspace_id, environment_id);
-- At most one default per workspace under any concurrency, across servers; the store
-- never leaves a workspace without one (the default cannot be deleted or lose its flag).
CREATE UNIQUE INDEX environments_one_default ON environments (workspace_id) WHERE is_default;
-- The default environment's deployments: the active release of each app.
CREATE INDEX releases_active_by_workspace ON releases (workspace_id, app_id)
    WHERE status = 'active';
