-- Per-entity digests, so that no write reads, decodes or hashes a whole draft (the
-- same version and name as SQLite's, which explains the design). Rows written before
-- this migration are filled in by the store when it connects (`backfill`), because
-- SQL cannot compute the hashes.

ALTER TABLE endpoints ADD COLUMN content_hash TEXT;
ALTER TABLE endpoints ADD COLUMN digest TEXT;
ALTER TABLE endpoints ADD COLUMN canonical TEXT;
ALTER TABLE endpoints ADD COLUMN body_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE augmentations ADD COLUMN content_hash TEXT;
ALTER TABLE augmentations ADD COLUMN digest TEXT;
ALTER TABLE augmentations ADD COLUMN canonical TEXT;
ALTER TABLE augmentations ADD COLUMN body_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE endpoints SET body_bytes = octet_length(body);
UPDATE augmentations SET body_bytes = octet_length(body);
CREATE INDEX endpoints_content_hashes
    ON endpoints (app_id, endpoint_id) INCLUDE (content_hash, body_bytes);
CREATE INDEX augmentations_content_hashes
    ON augmentations (app_id, augmentation_id) INCLUDE (content_hash, body_bytes);
CREATE INDEX endpoints_without_digest ON endpoints (endpoint_id) WHERE content_hash IS NULL;
CREATE INDEX augmentations_without_digest ON augmentations (augmentation_id)
    WHERE content_hash IS NULL;

ALTER TABLE apps ADD COLUMN draft_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE apps SET draft_bytes =
    coalesce((SELECT sum(body_bytes) FROM endpoints e WHERE e.app_id = apps.app_id), 0)
  + coalesce((SELECT sum(body_bytes) FROM augmentations a WHERE a.app_id = apps.app_id), 0);

-- The manifest of each release's content (NULL when an old release's content could
-- not be read to make one) and its digest, both set once: at creation, or by the
-- backfill for releases cut before this migration.
ALTER TABLE releases ADD COLUMN manifest TEXT;
ALTER TABLE releases ADD COLUMN manifest_digest TEXT;
CREATE INDEX releases_without_manifest ON releases (release_id) WHERE manifest_digest IS NULL;

CREATE FUNCTION releases_refuse_manifest_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.manifest_digest IS NOT NULL THEN
        RAISE EXCEPTION 'release content is immutable';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER releases_manifest_is_set_once
BEFORE UPDATE OF manifest, manifest_digest ON releases
FOR EACH ROW EXECUTE FUNCTION releases_refuse_manifest_change();
