ALTER TABLE deliveries DROP COLUMN held_reason;
