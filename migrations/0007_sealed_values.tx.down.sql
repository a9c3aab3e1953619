-- Going back needs the plaintext tokens and header values, and SQL cannot
-- decrypt them: refuse (changing nothing) while any sealed value exists,
-- rather than lose every ingest URL.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sources WHERE ingest_token IS NULL)
        OR EXISTS (SELECT 1 FROM endpoints, jsonb_each_text(headers) h WHERE h.value LIKE 'enc1:%') THEN
        RAISE EXCEPTION '0007 down: ingest tokens or header values are sealed; SQL cannot decrypt them';
    END IF;
END $$;

--bun:split

ALTER TABLE sources ADD CONSTRAINT sources_ingest_token_key UNIQUE (ingest_token);
ALTER TABLE sources ALTER COLUMN ingest_token SET NOT NULL;
ALTER TABLE sources DROP COLUMN ingest_token_sealed;
DROP INDEX sources_ingest_token_hash;
ALTER TABLE sources DROP COLUMN ingest_token_hash;
