-- Idempotency keys (docs/API.md, "Retrying a write"): one row per key a caller sent
-- with a write, scoped to the token's org (a platform token: the token). While its
-- request runs, `claim_id` and `lease_until` say whose it is and until when; once it
-- has answered, `status`, `headers` and `body` (deflated) hold the answer a repeat gets. A row
-- goes once `expires_at` has passed (the server's sweep, or a new claim of its key).

CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    claim_id        TEXT,
    lease_until     INTEGER,
    status          INTEGER,
    headers         TEXT,
    body            BLOB,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (scope, idempotency_key),
    CHECK ((claim_id IS NULL) = (status IS NOT NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

-- How many keys each scope has stored (expired ones until they are swept): the
-- count `--max-idempotency-keys-per-org` bounds, kept by every claim of a new key,
-- every release and every sweep, so no claim counts rows.
CREATE TABLE idempotency_key_counts (
    scope TEXT PRIMARY KEY,
    keys  INTEGER NOT NULL CHECK (keys >= 0)
) STRICT, WITHOUT ROWID;
