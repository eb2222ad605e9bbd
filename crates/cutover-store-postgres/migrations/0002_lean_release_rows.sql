-- Release rows stay small. On SQLite this migration moves a release's snapshot and
-- change log out of the release row; PostgreSQL already keeps large values out of
-- line (TOAST) and carries them over untouched when a row's status changes, so here it
-- only adds the index that answers the count of a release list without reading the
-- rows. The version and name match SQLite's.

CREATE INDEX releases_by_app_status ON releases (app_id, status);
