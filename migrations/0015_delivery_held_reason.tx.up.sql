-- Why a pending delivery is waiting without an attempt (endpoint circuit
-- open, rate limit, in-flight cap, paused, worker share), written when the
-- worker gives a claimed attempt back unsent and cleared by the next claim,
-- so the delivery and event pages can say "held: … until T" without
-- asking Redis. Empty: not held.
ALTER TABLE deliveries ADD COLUMN held_reason text NOT NULL DEFAULT '';
