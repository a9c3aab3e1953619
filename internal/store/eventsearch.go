package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// StatusCount is how many of an event's deliveries are in a status.
type StatusCount struct {
	EventID string `bun:"event_id"`
	Status  string `bun:"status"`
	N       int    `bun:"n"`
}

// DeliveryCounts summarises the deliveries of a page of events by status,
// in one query over the deliveries_event index.
func (s *Store) DeliveryCounts(ctx context.Context, teamID string, eventIDs []string) (map[string][]StatusCount, error) {
	out := map[string][]StatusCount{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	var rows []StatusCount
	err := s.db.NewRaw(`SELECT event_id, status, count(*) AS n FROM deliveries
		WHERE event_id IN (?) AND team_id = ? GROUP BY event_id, status ORDER BY event_id, status`,
		bun.In(eventIDs), teamID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	for _, r := range rows {
		out[r.EventID] = append(out[r.EventID], r)
	}
	return out, nil
}

// FindEvent finds a team's event by hookrelay id or by the provider's own
// event id (e.g. Stripe's evt_…), through the (source_id,
// provider_event_id) unique index of each of the team's sources.
func (s *Store) FindEvent(ctx context.Context, teamID, id string) (*Event, error) {
	e := new(Event)
	err := s.db.NewSelect().Model(e).ExcludeColumn("body", "headers").
		Where("team_id = ? AND id = ?", teamID, id).Scan(ctx)
	if err == nil {
		return e, nil
	}
	err = s.db.NewSelect().Model(e).ExcludeColumn("body", "headers").
		Where("source_id IN (SELECT id FROM sources WHERE team_id = ?) AND provider_event_id = ?", teamID, id).
		Order("id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "event", id)
	}
	return e, nil
}

// AuditSearch narrows SearchAudit. Times become id bounds (audit ids are
// ULIDs minted when the row is written), so every search walks the
// (team_id, id) index.
type AuditSearch struct {
	TeamID   string
	Action   string
	Actor    string // "kind:id", or just the id ("ann@example.com")
	TargetID string
	Since    time.Time
	Until    time.Time
	Before   string // cursor: the last id of the previous page
	Limit    int
}

// SearchAudit returns audit rows, newest first.
func (s *Store) SearchAudit(ctx context.Context, f AuditSearch) ([]AuditEntry, error) {
	var out []AuditEntry
	q := s.db.NewSelect().Model(&out).Where("team_id = ?", f.TeamID)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Actor != "" {
		q = q.Where("(actor = ? OR substr(actor, strpos(actor, ':') + 1) = ?)", f.Actor, f.Actor)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		q = q.Where("id >= ?", idAt("aud", f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("id < ?", idAt("aud", f.Until))
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Order("id DESC").Limit(int64(clampLimit(f.Limit))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: search audit: %w", err)
	}
	return out, nil
}
