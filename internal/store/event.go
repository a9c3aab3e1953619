package store

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	// BodyDropped means HOOKRELAY_PAYLOAD_RETENTION removed the payload:
	// Body is empty, the event is otherwise kept ("payload expired").
	BodyDropped bool `bun:"body_dropped"`
}

// InsertEvent inserts e unless the source already has an event with the
// same provider event id; then e.ID is set to the original's id and
// inserted is false.
func (s *Store) InsertEvent(ctx context.Context, e *Event) (inserted bool, err error) {
	ins, err := s.InsertEvents(ctx, []*Event{e})
	if err != nil {
		return false, err
	}
	return ins[0], nil
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
// in ID, and so do repeats within the batch (the first one wins).
// inserted[i] reports whether es[i] is new.
//
// The key lives in event_keys, not in a unique index on events (see
// migration 0005): the statement inserts the keys ON CONFLICT DO NOTHING
// and then only the events whose key it inserted, or that have none.
func (s *Store) InsertEvents(ctx context.Context, es []*Event) (inserted []bool, err error) {
	if len(es) == 0 {
		return nil, nil
	}
	var values strings.Builder
	args := make([]any, 0, 12*len(es))
	hashes := make([][]byte, len(es))
	for i, e := range es {
		if e.Headers == nil {
			e.Headers = map[string][]string{}
		}
		if i > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(?::int, ?::text, ?::text, ?::text, ?::timestamptz, ?::text, ?::text, ?::text, ?::jsonb, ?::bytea, ?::boolean, ?::bytea)")
		h := sha256.Sum256(e.Body)
		hashes[i] = h[:]
		args = append(args, i, e.ID, e.TeamID, e.SourceID, e.ReceivedAt, e.ProviderEventID, e.EventType,
			e.ContentType, jsonb(e.Headers), e.Body, e.Verified, hashes[i])
	}
	var ids []string
	err = s.db.NewRaw(`WITH input (i, id, team_id, source_id, received_at, provider_event_id, event_type,
			content_type, headers, body, verified, body_hash) AS (VALUES `+values.String()+`),
		k AS (
			INSERT INTO event_keys (source_id, provider_event_id, event_id, received_at, body_hash)
			SELECT DISTINCT ON (source_id, provider_event_id) source_id, provider_event_id, id, received_at, body_hash
			FROM input WHERE provider_event_id IS NOT NULL ORDER BY source_id, provider_event_id, i
			ON CONFLICT DO NOTHING
			RETURNING event_id)
		INSERT INTO events (id, team_id, source_id, received_at, provider_event_id, event_type, content_type,
			headers, body, verified)
		SELECT id, team_id, source_id, received_at, provider_event_id, event_type, content_type, headers, body, verified
		FROM input WHERE provider_event_id IS NULL OR id IN (SELECT event_id FROM k)
		RETURNING id`, args...).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	got := make(map[string]bool, len(ids))
	for _, id := range ids {
		got[id] = true
	}
	inserted = make([]bool, len(es))
	var dups []*Event
	var dupIdx []int
	for i, e := range es {
		if inserted[i] = got[e.ID]; !inserted[i] {
			dups, dupIdx = append(dups, e), append(dupIdx, i)
		}
	}
	if len(dups) == 0 {
		return inserted, nil
	}
	ownIDs := make([]string, len(dups))
	for j, e := range dups {
		ownIDs[j] = e.ID
	}
	origHash, err := s.resolveDuplicates(ctx, dups)
	if err != nil {
		return nil, err
	}
	// A key reused with another body is not a retry: store that event on
	// its own (it keeps no key) rather than answer it as a duplicate.
	for j, e := range dups {
		i := dupIdx[j]
		if h := origHash[j]; h == nil || bytes.Equal(h, hashes[i]) {
			continue
		}
		e.ID = ownIDs[j]
		if _, err := s.db.NewInsert().Model(e).Exec(ctx); err != nil {
			return nil, fmt.Errorf("store: insert event with a reused key: %w", err)
		}
		inserted[i] = true
	}
	return inserted, nil
}

// resolveDuplicates sets each event's ID to the original's, in one query,
// and returns the body hash stored with each key (nil for keys older than
// migration 0006). It runs as a statement of its own so that it sees a key
// committed by a concurrent transaction that the insert waited for.
func (s *Store) resolveDuplicates(ctx context.Context, dups []*Event) ([][]byte, error) {
	keys := make([]any, 0, len(dups))
	for _, e := range dups {
		keys = append(keys, bun.Tuple([]any{e.SourceID, e.ProviderEventID}))
	}
	var rows []struct {
		SourceID        string `bun:"source_id"`
		ProviderEventID string `bun:"provider_event_id"`
		EventID         string `bun:"event_id"`
		BodyHash        []byte `bun:"body_hash"`
	}
	err := s.db.NewRaw(`SELECT source_id, provider_event_id, event_id, body_hash FROM event_keys
		WHERE (source_id, provider_event_id) IN (?)`, bun.In(keys)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: find duplicate events: %w", err)
	}
	type orig struct {
		id   string
		hash []byte
	}
	byKey := make(map[[2]string]orig, len(rows))
	for _, r := range rows {
		byKey[[2]string{r.SourceID, r.ProviderEventID}] = orig{r.EventID, r.BodyHash}
	}
	hashes := make([][]byte, len(dups))
	for j, e := range dups {
		if e.ProviderEventID == nil {
			return nil, fmt.Errorf("store: insert event %s: not inserted and no provider id", e.ID)
		}
		o, ok := byKey[[2]string{e.SourceID, *e.ProviderEventID}]
		if !ok {
			return nil, fmt.Errorf("store: find duplicate event %s/%s: %w", e.SourceID, *e.ProviderEventID, ErrNotFound)
		}
		e.ID, hashes[j] = o.id, o.hash
	}
	return hashes, nil
}
