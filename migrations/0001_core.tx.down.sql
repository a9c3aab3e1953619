DROP TABLE IF EXISTS audit_log, rejected_requests, delivery_attempts, deliveries, events, subscriptions, endpoints, sources, api_tokens, teams;
--bun:split
DROP FUNCTION IF EXISTS audit_log_append_only();
