package store

import (
	"context"
	"fmt"
)

// MarkTestEvent flags a team's event as a test event (events.test). The
// ingest statement never names the column, so the test event is inserted
// like any other and flagged here, in the same transaction.
func (s *Store) MarkTestEvent(ctx context.Context, teamID, id string) error {
	res, err := s.db.NewUpdate().Table("events").Set("test = true").
		Where("team_id = ? AND id = ?", teamID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: mark test event %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: mark test event %s: %w", id, ErrNotFound)
	}
	return nil
}
