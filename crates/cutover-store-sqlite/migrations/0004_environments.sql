-- Environments of a workspace (docs/API.md, "Environments"). A new workspace gets the
-- three starting ones in the transaction that creates it; workspaces created before
-- this migration get them from the store's backfill when it opens.
CREATE TABLE environments (
    environment_id TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (workspace_id),
    name           TEXT NOT NULL,
    slug           TEXT NOT NULL,
    description    TEXT,
    is_default     INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    protected      INTEGER NOT NULL CHECK (protected IN (0, 1)),
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (workspace_id, slug)
) STRICT;
CREATE INDEX environments_by_workspace ON environments (workspace_id, environment_id);
-- At most one default per workspace under any concurrency; the store never leaves a
-- workspace without one (the default cannot be deleted or lose its flag).
CREATE UNIQUE INDEX environments_one_default ON environments (workspace_id) WHERE is_default = 1;
-- The default environment's deployments: the active release of each app.
CREATE INDEX releases_active_by_workspace ON releases (workspace_id, app_id)
    WHERE status = 'active';
