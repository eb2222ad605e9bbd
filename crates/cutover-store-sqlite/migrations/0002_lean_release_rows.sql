-- Release rows stay small. A release's content (its snapshot and change log, tens of
-- kilobytes) moves to a table of its own: SQLite rewrites a whole row, overflow pages
-- included, on every UPDATE, so with the content in the row each activation rewrote
-- two snapshots, and counting an app's releases read through them. Now switching the
-- active release and listing touch only the lifecycle rows, and the count of a list
-- is answered from an index.

CREATE TABLE release_contents (
    release_id TEXT PRIMARY KEY REFERENCES releases (release_id) ON DELETE CASCADE,
    change_log TEXT NOT NULL,
    snapshot   TEXT NOT NULL
) STRICT;

INSERT INTO release_contents (release_id, change_log, snapshot)
    SELECT release_id, change_log, snapshot FROM releases;

DROP TRIGGER releases_content_is_immutable;
ALTER TABLE releases DROP COLUMN snapshot;
ALTER TABLE releases DROP COLUMN change_log;

CREATE TRIGGER releases_content_is_immutable
BEFORE UPDATE OF release_id, app_id, workspace_id, org_id, release_tag, release_number,
    description, endpoint_count, augmentation_count, content_hash, created_at, created_by,
    previous_release_id
ON releases
BEGIN
    SELECT RAISE(ABORT, 'release content is immutable');
END;

CREATE TRIGGER release_contents_are_immutable
BEFORE UPDATE ON release_contents
BEGIN
    SELECT RAISE(ABORT, 'release content is immutable');
END;

CREATE INDEX releases_by_app_status ON releases (app_id, status);
