-- The app's timeline (docs/API.md, "Timeline"): one row per event (a commit, a
-- release cut, archive or delete, a deployment), written in the transaction of the
-- write it records. `body` is the event as the API answers it. Rows are never
-- changed; they go only with their app.

CREATE TABLE timeline_events (
    sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
    event_type TEXT NOT NULL CHECK (event_type IN ('commit', 'release', 'deployment')),
    at         INTEGER NOT NULL,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX timeline_events_by_app ON timeline_events (app_id, sequence);

CREATE TRIGGER timeline_events_are_append_only
BEFORE UPDATE ON timeline_events
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;

-- Apps that existed before this migration: the store's backfill gives each the
-- events its releases and deployment records stand for (after the deployment
-- carry-over of migration 5), oldest first, then removes its row here.
CREATE TABLE timeline_backfill (
    app_id TEXT PRIMARY KEY REFERENCES apps (app_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
INSERT INTO timeline_backfill (app_id) SELECT app_id FROM apps;
