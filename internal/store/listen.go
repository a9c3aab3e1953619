package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// EventsReceivedFrom returns up to limit of a team's events (of one source
// when sourceID is set) received at or after from, except those in skip
// (already sent), oldest first by (received_at, id): what `hookrelay
// listen` streams. The received_at bound prunes the day partitions to
// those from on.
func (s *Store) EventsReceivedFrom(ctx context.Context, teamID, sourceID string, from time.Time, skip []string, limit int) ([]Event, error) {
	out := []Event{}
	q := s.db.NewSelect().Model(&out).Where("team_id = ?", teamID).Where("received_at >= ?", from)
	if len(skip) > 0 {
		q = q.Where("id NOT IN (?)", bun.In(skip))
	}
	if sourceID != "" {
		q = q.Where("source_id = ?", sourceID)
	}
	if err := q.Order("received_at", "id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: events received from %s: %w", from.Format(time.RFC3339Nano), err)
	}
	return out, nil
}
