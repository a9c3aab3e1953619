package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OldestFreshDue returns the oldest pending delivery of the endpoint that
// was never attempted (attempts = 0) and is due by now (with the claim's
// one second of earliness), or "" when there is none. A half-open circuit
// probes with it rather than with a delivery that failed before: a payload
// that fails on its own says nothing about the endpoint.
func (s *Store) OldestFreshDue(ctx context.Context, endpointID string, now time.Time) (string, error) {
	var id string
	err := s.db.NewRaw(`SELECT id FROM deliveries WHERE status = 'pending' AND endpoint_id = ? AND attempts = 0
		AND next_attempt_at - ?::timestamptz <= interval '1 second' ORDER BY id LIMIT 1`, endpointID, now).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: fresh delivery of %s: %w", endpointID, err)
	}
	return id, nil
}
