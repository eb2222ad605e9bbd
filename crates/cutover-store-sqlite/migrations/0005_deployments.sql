-- Deployments (docs/API.md, "Deployments"): what of each app is deployed in each
-- environment, and the append-only record of every deploy, promote and rollback.
-- A release's status follows where it is deployed, so more than one release of an
-- app may be `active` (one per environment): the one-active-per-app index goes.
-- The activation history of earlier versions becomes the default environment's
-- records in the store's backfill, which also deploys each app's active release
-- there (it needs the environments, which the backfill of migration 4 gives).

CREATE TABLE deployments (
    sequence            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id       TEXT NOT NULL UNIQUE,
    app_id              TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    -- no reference: a record outlives its environment, with its slug and name then
    environment_id      TEXT NOT NULL,
    environment_slug    TEXT NOT NULL,
    environment_name    TEXT NOT NULL,
    -- no reference: a record outlives its release, with its tag and number
    release_id          TEXT NOT NULL,
    release_tag         TEXT,
    release_number      INTEGER,
    action              TEXT NOT NULL CHECK (action IN ('deploy', 'promote', 'rollback')),
    previous_release_id TEXT,
    reason              TEXT,
    deployed_by         TEXT NOT NULL,
    deployed_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX deployments_by_app ON deployments (app_id, sequence);
CREATE INDEX deployments_by_environment ON deployments (app_id, environment_id, sequence);
-- What an environment had, grouped by release, read from the index alone: rollback's
-- history and "was it ever deployed here" cost no record reads.
CREATE INDEX deployments_by_release ON deployments (app_id, environment_id, release_id, sequence);

CREATE TRIGGER deployments_are_append_only
BEFORE UPDATE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'deployment records are append-only');
END;

-- At most one release of an app per environment, under any concurrency: the key.
CREATE TABLE deployed (
    app_id         TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments (environment_id),
    workspace_id   TEXT NOT NULL,
    release_id     TEXT NOT NULL REFERENCES releases (release_id),
    deployment_id  TEXT NOT NULL,
    PRIMARY KEY (app_id, environment_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX deployed_by_environment ON deployed (environment_id, app_id);
CREATE INDEX deployed_by_release ON deployed (release_id);

DROP INDEX releases_one_active_per_app;
DROP INDEX releases_active_by_workspace;
