package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/uptrace/bun"
)

// Event is one verified inbound webhook, body stored byte for byte.
type Event struct {
	bun.BaseModel `bun:"table:events"`

	ID              string              `bun:"id,pk"`
	TeamID          string              `bun:"team_id"`
	SourceID        string              `bun:"source_id"`
	ReceivedAt      time.Time           `bun:"received_at"`
	ProviderEventID *string             `bun:"provider_event_id"`
	EventType       string              `bun:"event_type"`
	ContentType     string              `bun:"content_type"`
	Headers         map[string][]string `bun:"headers,type:jsonb"`
	Body            []byte              `bun:"body"`
	Verified        bool                `bun:"verified"`
}

// InsertEvent inserts e unless the source already has an event with the
// same provider event id; then e.ID is set to the original's id and
// inserted is false.
func (s *Store) InsertEvent(ctx context.Context, e *Event) (inserted bool, err error) {
	if e.Headers == nil {
		e.Headers = map[string][]string{}
	}
	var id string
	err = s.db.NewInsert().Model(e).On("CONFLICT (source_id, provider_event_id) DO NOTHING").
		Returning("id").Scan(ctx, &id)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("store: insert event: %w", err)
	}
	err = s.db.NewSelect().Model((*Event)(nil)).Column("id").
		Where("source_id = ? AND provider_event_id = ?", e.SourceID, e.ProviderEventID).Scan(ctx, &id)
	if err != nil {
		return false, fmt.Errorf("store: find duplicate event: %w", err)
	}
	e.ID = id
	return false, nil
}

// GetEvent loads a team's event.
func (s *Store) GetEvent(ctx context.Context, teamID, id string) (*Event, error) {
	e := new(Event)
	if err := s.db.NewSelect().Model(e).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "event", id)
	}
	return e, nil
}

// EventFilter narrows ListEvents. Times become id bounds, because ids are
// ULIDs minted at receipt: every filter then walks the (team_id, id) index.
type EventFilter struct {
	TeamID    string
	SourceID  string
	EventType string
	Status    string // events with at least one delivery in this status
	Since     time.Time
	Until     time.Time
	Before    string // cursor: the last id of the previous page
	Limit     int
}

// ListEvents returns events newest first, without bodies.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	var out []Event
	q := s.db.NewSelect().Model(&out).ExcludeColumn("body", "headers").Where("team_id = ?", f.TeamID)
	if f.SourceID != "" {
		q = q.Where("source_id = ?", f.SourceID)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if f.Status != "" {
		q = q.Where("EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = event.id AND d.status = ?)", f.Status)
	}
	if !f.Since.IsZero() {
		q = q.Where("id >= ?", idAt("evt", f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("id < ?", idAt("evt", f.Until))
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Order("id DESC").Limit(int64(clampLimit(f.Limit))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return out, nil
}

// idAt is the smallest id of a kind minted at t.
func idAt(prefix string, t time.Time) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	return prefix + "_" + strings.ToLower(u.String())
}

// InsertEvents inserts a batch in one statement; events whose (source,
// provider event id) already exists are skipped and get the original's id
// in ID. inserted[i] reports whether es[i] is new.
func (s *Store) InsertEvents(ctx context.Context, es []*Event) (inserted []bool, err error) {
	if len(es) == 1 {
		ok, err := s.InsertEvent(ctx, es[0])
		return []bool{ok}, err
	}
	for _, e := range es {
		if e.Headers == nil {
			e.Headers = map[string][]string{}
		}
	}
	var ids []string
	err = s.db.NewInsert().Model(&es).On("CONFLICT (source_id, provider_event_id) DO NOTHING").
		Returning("id").Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	got := make(map[string]bool, len(ids))
	for _, id := range ids {
		got[id] = true
	}
	inserted = make([]bool, len(es))
	for i, e := range es {
		if inserted[i] = got[e.ID]; inserted[i] {
			continue
		}
		// A duplicate: of an older event, or of one earlier in this batch.
		var id string
		err := s.db.NewSelect().Model((*Event)(nil)).Column("id").
			Where("source_id = ? AND provider_event_id = ?", e.SourceID, e.ProviderEventID).Scan(ctx, &id)
		if err != nil {
			return nil, fmt.Errorf("store: find duplicate event: %w", err)
		}
		e.ID = id
	}
	return inserted, nil
}
