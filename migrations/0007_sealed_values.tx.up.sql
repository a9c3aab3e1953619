-- Ingest tokens and endpoint header values are credentials: a database dump
-- must not hand out working ingest URLs or the Authorization headers
-- endpoints are called with.
--
-- Ingest URLs are found by the SHA-256 of their token (a unique index: the
-- ingest path stays one indexed lookup), and shown to the team from
-- ingest_token_sealed, the token encrypted with HOOKRELAY_ENCRYPTION_KEYS
-- ("enc1:<kid>:<base64>", bound to the source id). SQL cannot encrypt with
-- our key, so this migration only computes the hashes and leaves the
-- plaintext in ingest_token; `hookrelay migrate up` then seals it and
-- clears the column (so does `hookrelay secrets rekey`). Until then ingest
-- works by hash and the dashboard reads the old column.
--
-- Header values are sealed the same way inside the headers jsonb; a value
-- without the "enc1:" prefix is one stored before this migration, used as
-- is until the same step seals it.
ALTER TABLE sources ADD COLUMN ingest_token_hash bytea;
UPDATE sources SET ingest_token_hash = sha256(convert_to(ingest_token, 'UTF8'));
ALTER TABLE sources ALTER COLUMN ingest_token_hash SET NOT NULL;
CREATE UNIQUE INDEX sources_ingest_token_hash ON sources (ingest_token_hash);
ALTER TABLE sources ADD COLUMN ingest_token_sealed text;
ALTER TABLE sources ALTER COLUMN ingest_token DROP NOT NULL;
-- The plaintext's unique index would keep the tokens in the index pages.
ALTER TABLE sources DROP CONSTRAINT sources_ingest_token_key;
