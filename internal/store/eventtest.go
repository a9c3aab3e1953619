package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
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

// TestEventIDs says which of a team's events are test events, for lists
// of deliveries that badge them. One query over the partitions the ids'
// times point at (lookup.go); only ids not found there are asked again
// without the bounds, so an event stored apart from its id's time is
// never taken for a real one.
func (s *Store) TestEventIDs(ctx context.Context, teamID string, eventIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	var lo, hi time.Time
	var unknown []string
	for _, id := range eventIDs {
		at, ok := IDTime(id)
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	var rows []struct {
		ID   string `bun:"id"`
		Test bool   `bun:"test"`
	}
	sel := func(ids []string, pruned bool) error {
		q := s.db.NewSelect().Table("events").Column("id", "test").Where("team_id = ? AND id IN (?)", teamID, bun.In(ids))
		if pruned {
			q = q.Where("received_at BETWEEN ? AND ?", lo.Add(-idTimeMargin), hi.Add(idTimeMargin))
		}
		rows = rows[:0]
		if err := q.Scan(ctx, &rows); err != nil {
			return fmt.Errorf("store: test events: %w", err)
		}
		return nil
	}
	if !lo.IsZero() {
		if err := sel(eventIDs, true); err != nil {
			return nil, err
		}
		found := map[string]bool{}
		for _, r := range rows {
			found[r.ID] = true
			if r.Test {
				out[r.ID] = true
			}
		}
		unknown = unknown[:0]
		for _, id := range eventIDs {
			if !found[id] {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	if err := sel(unknown, false); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Test {
			out[r.ID] = true
		}
	}
	return out, nil
}
