-- Idempotency keys (docs/API.md, "Retrying a write"): one row per key a caller sent
-- with a write, scoped to the token's org (a platform token: the token). While its
-- request runs, `claim_id` and `lease_until` say whose it is and until when; once it
-- has answered, `status`, `headers` and `body` (deflated) hold the answer a repeat gets. A row
-- goes once `expires_at` has passed (a server's sweep, or a new claim of its key).
-- Servers sharing the database claim a key with a row lock, so one runs it.

CREATE TABLE idempotency_keys (
    scope           TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C" NOT NULL,
    fingerprint     TEXT NOT NULL,
    claim_id        TEXT,
    lease_until     BIGINT,
    status          INTEGER,
    headers         TEXT,
    body            BYTEA,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (scope, idempotency_key),
    CHECK ((claim_id IS NULL) = (status IS NOT NULL))
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

-- How many keys each scope has stored (expired ones until they are swept): the
-- count `--max-idempotency-keys-per-org` bounds, kept by every claim of a new key,
-- every release and every sweep, so no claim counts rows.
CREATE TABLE idempotency_key_counts (
    scope TEXT COLLATE "C" PRIMARY KEY,
    keys  BIGINT NOT NULL CHECK (keys >= 0)
);
