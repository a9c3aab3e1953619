-- The dedup key can come from a header the provider's signature does not
-- cover (X-GitHub-Delivery, Shopify's ids, a generic id_header). Keeping the
-- body's SHA-256 with the key lets ingest tell a provider's retry (same
-- body) from a replayed signed body carrying someone else's id (different
-- body): the latter is stored as an event of its own instead of making the
-- real event answer as a "duplicate". Keys from before this migration have
-- no hash and keep the old behaviour.
ALTER TABLE event_keys ADD COLUMN body_hash bytea;
