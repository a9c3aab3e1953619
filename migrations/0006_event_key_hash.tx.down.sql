ALTER TABLE event_keys DROP COLUMN body_hash;
