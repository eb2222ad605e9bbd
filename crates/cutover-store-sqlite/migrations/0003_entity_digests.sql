-- Per-entity digests, so that no write reads, decodes or hashes a whole draft.
-- Each draft entity keeps its canonical JSON (what its part of a release's content
-- hash covers), the hash of that, and a digest with a hash per field (for the change
-- log). `apps.draft_hash` becomes the digest of the draft's entity hashes
-- (`Manifest::digest`), kept current from an index alone; every release keeps the
-- manifest of its content and the same digest, so "draft has changes" and a change
-- log compare digests instead of decoded snapshots. Rows written before this
-- migration are filled in by the store when it opens (`backfill`), because SQL
-- cannot compute the hashes.

ALTER TABLE endpoints ADD COLUMN content_hash TEXT;
ALTER TABLE endpoints ADD COLUMN digest TEXT;
ALTER TABLE endpoints ADD COLUMN canonical TEXT;
ALTER TABLE endpoints ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE augmentations ADD COLUMN content_hash TEXT;
ALTER TABLE augmentations ADD COLUMN digest TEXT;
ALTER TABLE augmentations ADD COLUMN canonical TEXT;
ALTER TABLE augmentations ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE endpoints SET body_bytes = length(CAST(body AS BLOB));
UPDATE augmentations SET body_bytes = length(CAST(body AS BLOB));
-- Covering indexes: the draft digest and the draft's size are read from them alone,
-- never through the (possibly megabyte) rows.
CREATE INDEX endpoints_content_hashes
    ON endpoints (app_id, endpoint_id, content_hash, body_bytes);
CREATE INDEX augmentations_content_hashes
    ON augmentations (app_id, augmentation_id, content_hash, body_bytes);

-- Bytes of the draft's stored entities, kept current by every draft write.
ALTER TABLE apps ADD COLUMN draft_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE apps SET draft_bytes =
    coalesce((SELECT sum(body_bytes) FROM endpoints e WHERE e.app_id = apps.app_id), 0)
  + coalesce((SELECT sum(body_bytes) FROM augmentations a WHERE a.app_id = apps.app_id), 0);

-- Set once: at creation, or by the backfill for releases cut before this migration.
ALTER TABLE releases ADD COLUMN manifest_digest TEXT;
CREATE TRIGGER releases_manifest_digest_is_set_once
BEFORE UPDATE OF manifest_digest ON releases
WHEN OLD.manifest_digest IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'release content is immutable');
END;

-- The manifest of each release's content; NULL when an old release's content could
-- not be read to make one.
CREATE TABLE release_manifests (
    release_id TEXT PRIMARY KEY REFERENCES releases (release_id) ON DELETE CASCADE,
    manifest   TEXT
) STRICT;

CREATE TRIGGER release_manifests_are_immutable
BEFORE UPDATE ON release_manifests
BEGIN
    SELECT RAISE(ABORT, 'release content is immutable');
END;

-- Empty once every row has its digests: the store's check at start reads only these.
CREATE INDEX endpoints_without_digest ON endpoints (endpoint_id) WHERE content_hash IS NULL;
CREATE INDEX augmentations_without_digest ON augmentations (augmentation_id)
    WHERE content_hash IS NULL;
CREATE INDEX releases_without_manifest ON releases (release_id) WHERE manifest_digest IS NULL;
