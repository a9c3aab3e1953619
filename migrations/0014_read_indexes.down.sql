DROP INDEX CONCURRENTLY IF EXISTS deliveries_team_status_event;
