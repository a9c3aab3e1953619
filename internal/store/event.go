package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
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
	// Test marks an event hookrelay made itself (a test event): no
	// provider signed it. Ingest never sets it; MarkTestEvent does.
	Test bool `bun:"test"`
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

// GetEvent loads a team's event, reading the partition its id's time
// points at first (lookup.go).
func (s *Store) GetEvent(ctx context.Context, teamID, id string) (*Event, error) {
	return s.lookupEvent(ctx, teamID, id)
}

// EventFilter narrows ListEvents. Times become id bounds, because ids are
// ULIDs minted at receipt: every filter then walks the (team_id, id) index.
type EventFilter struct {
	TeamID    string
	SourceID  string
	EventType string
	Status    string // events with at least one delivery in this status
	// EndpointID keeps events with a delivery to this endpoint.
	EndpointID string
	// Tests is "" (include test events), "exclude" or "only".
	Tests  string
	Since  time.Time
	Until  time.Time
	Before string // cursor: the last id of the previous page
	Limit  int
}

// ListEvents returns events newest first, without bodies.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	var out []Event
	q := s.db.NewSelect().Model(&out).ExcludeColumn("body", "headers").Where("team_id = ?", f.TeamID)
	if f.SourceID != "" {
		q = q.Where("source_id = ?", f.SourceID)
	}
	if f.EventType != "" {
		q = whereMatch(q, "event_type", f.EventType)
	}
	if f.Status != "" {
		if f.Status == StatusSucceeded {
			// Nearly every event has one: probe each event's deliveries
			// as the events are walked (OFFSET 0 keeps the subquery a
			// per-event probe, not a merge with every team's deliveries).
			q = q.Where("EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = event.id AND d.status = ? OFFSET 0)", f.Status)
		} else {
			// The other statuses are rare: d.team_id lets the merge read
			// only this team's deliveries in the status (migration 0014),
			// and the page's id bounds, repeated on d.event_id (the
			// planner does not carry them across the join), start that
			// read at the cursor instead of the newest.
			sub := s.db.NewSelect().TableExpr("deliveries AS d").ColumnExpr("1").
				Where("d.event_id = event.id AND d.team_id = event.team_id AND d.status = ?", f.Status)
			if !f.Since.IsZero() {
				sub = sub.Where("d.event_id >= ?", idAt("evt", f.Since))
			}
			if !f.Until.IsZero() {
				sub = sub.Where("d.event_id < ?", idAt("evt", f.Until))
			}
			if f.Before != "" {
				sub = sub.Where("d.event_id < ?", f.Before)
			}
			q = q.Where("EXISTS (?)", sub)
		}
	}
	if f.EndpointID != "" {
		// A per-event probe (OFFSET 0), as for succeeded: merged with
		// deliveries_event, a team whose newest events are older than
		// other teams' read all of theirs first (4 s at 4 M events).
		q = q.Where("EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = event.id AND d.endpoint_id = ? OFFSET 0)", f.EndpointID)
	}
	switch f.Tests {
	case "exclude":
		q = q.Where("NOT test")
	case "only":
		q = q.Where("test")
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
func (s *Store) InsertEvents(ctx context.Context, es []*Event) (inserted []bool, err error) {
	return s.IngestEvents(ctx, es, nil)
}

// IngestEvents inserts a batch of events and the deliveries of the new
// ones in ONE statement, so each event commits together with its
// deliveries; duplicates are resolved as in InsertEvents, and a delivery
// whose event turned out to be a duplicate is not inserted. Each delivery
// names its event by the event's own new ID; only ID, EventID and
// EndpointID are read (team, status pending and the times come from the
// event). Outside a transaction the statement commits by itself, durably:
// it runs on the main pool, never on the bookkeeping one.
//
// The key lives in event_keys, not in a unique index on events (see
// migration 0005): the statement inserts the keys ON CONFLICT DO NOTHING
// and then only the events whose key it inserted, or that have none.
func (s *Store) IngestEvents(ctx context.Context, es []*Event, ds []Delivery) (inserted []bool, err error) {
	if len(es) == 0 {
		return nil, nil
	}
	hashes := make([][]byte, len(es))
	for i, e := range es {
		if e.Headers == nil {
			e.Headers = map[string][]string{}
		}
		h := sha256.Sum256(e.Body)
		hashes[i] = h[:]
	}
	ids, err := s.insertEventRows(ctx, es, hashes, nil, ds)
	if err != nil {
		return nil, err
	}
	inserted = make([]bool, len(es))
	var dups []*Event
	var dupIdx []int
	for i, e := range es {
		if inserted[i] = ids[e.ID]; !inserted[i] {
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
	// its own, with its deliveries (it keeps no key), rather than answer it
	// as a duplicate. Rare, so a second statement is fine.
	var reused []*Event
	var reusedIdx []int
	for j, e := range dups {
		i := dupIdx[j]
		if h := origHash[j]; h == nil || bytes.Equal(h, hashes[i]) {
			continue
		}
		e.ID = ownIDs[j]
		reused, reusedIdx = append(reused, e), append(reusedIdx, i)
	}
	if len(reused) == 0 {
		return inserted, nil
	}
	rh := make([][]byte, len(reused))
	for j, i := range reusedIdx {
		rh[j] = hashes[i]
	}
	got, err := s.insertEventRows(ctx, reused, rh, make([]bool, len(reused)), ds)
	if err != nil {
		return nil, fmt.Errorf("store: insert event with a reused key: %w", err)
	}
	for j, e := range reused {
		if !got[e.ID] {
			return nil, fmt.Errorf("store: insert event %s with a reused key: not inserted", e.ID)
		}
		inserted[reusedIdx[j]] = true
	}
	return inserted, nil
}

// ingestQuery inserts keys, events and deliveries from array parameters
// (see pgarray.go) and returns the ids of the events it inserted. An event
// with keyed false is inserted without a key (a reused key, above).
const ingestQuery = `WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
			$7::text[], $8::jsonb[], $9::bytea[], $10::boolean[], $11::bytea[], $12::boolean[])
			WITH ORDINALITY AS t(id, team_id, source_id, received_at, provider_event_id, event_type,
			content_type, headers, body, verified, body_hash, keyed, i)),
	k AS (
		INSERT INTO event_keys (source_id, provider_event_id, event_id, received_at, body_hash)
		SELECT DISTINCT ON (source_id, provider_event_id) source_id, provider_event_id, id, received_at, body_hash
		FROM input WHERE keyed AND provider_event_id IS NOT NULL ORDER BY source_id, provider_event_id, i
		ON CONFLICT DO NOTHING
		RETURNING event_id),
	e AS (
		INSERT INTO events (id, team_id, source_id, received_at, provider_event_id, event_type, content_type,
			headers, body, verified)
		SELECT id, team_id, source_id, received_at, provider_event_id, event_type, content_type, headers, body, verified
		FROM input WHERE NOT keyed OR provider_event_id IS NULL OR id IN (SELECT event_id FROM k)
		RETURNING id),
	d AS (
		INSERT INTO deliveries (id, team_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		SELECT d.id, input.team_id, d.event_id, d.endpoint_id, 'pending', input.received_at, input.received_at,
			input.received_at
		FROM unnest($13::text[], $14::text[], $15::text[]) AS d(id, event_id, endpoint_id)
		JOIN input ON input.id = d.event_id
		WHERE d.event_id IN (SELECT id FROM e))
	SELECT id FROM e`

// insertEventRows runs ingestQuery for es (keyed nil: all keyed) and the
// deliveries in ds that belong to them.
func (s *Store) insertEventRows(ctx context.Context, es []*Event, hashes [][]byte, keyed []bool, ds []Delivery) (map[string]bool, error) {
	n := len(es)
	ids, teams, sources, types, ctypes, headers := make(textArray, n), make(textArray, n), make(textArray, n),
		make(textArray, n), make(textArray, n), make(textArray, n)
	pids, at, bodies, verified := make(nullTextArray, n), make(timeArray, n), make(byteaArray, n), make(boolArray, n)
	mine := make(map[string]bool, n)
	for i, e := range es {
		h, err := json.Marshal(e.Headers)
		if err != nil {
			return nil, fmt.Errorf("store: insert events: headers: %w", err)
		}
		ids[i], teams[i], sources[i], types[i], ctypes[i], headers[i] = e.ID, e.TeamID, e.SourceID, e.EventType, e.ContentType, string(h)
		pids[i], at[i], bodies[i], verified[i] = e.ProviderEventID, e.ReceivedAt, e.Body, e.Verified
		mine[e.ID] = true
	}
	if keyed == nil {
		keyed = make([]bool, n)
		for i := range keyed {
			keyed[i] = true
		}
	}
	var dIDs, dEvents, dEndpoints textArray
	for _, d := range ds {
		if mine[d.EventID] {
			dIDs, dEvents, dEndpoints = append(dIDs, d.ID), append(dEvents, d.EventID), append(dEndpoints, d.EndpointID)
		}
	}
	st, err := s.durableStmt(ctx, ingestQuery)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, ids, teams, sources, at, pids, types, ctypes, headers, bodies, verified,
		byteaArray(hashes), boolArray(keyed), dIDs, dEvents, dEndpoints)
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	defer rows.Close()
	got := make(map[string]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: insert events: %w", err)
		}
		got[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return got, nil
}

// durableStmt is stmt for the ingest statements: always on the main pool
// (or the transaction), whose commits wait for the WAL flush, even when
// this Store claims and finishes on the bookkeeping pool.
func (s *Store) durableStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	switch db := s.db.(type) {
	case bun.Tx:
		return db.Tx.PrepareContext(ctx, query)
	case *bun.DB:
		key := "durable\x00" + query // never the bookkeeping pool's statement of the same text
		s.stmts.mu.Lock()
		defer s.stmts.mu.Unlock()
		if st, ok := s.stmts.m[key]; ok {
			return st, nil
		}
		st, err := db.DB.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		s.stmts.m[key] = st
		return st, nil
	}
	return nil, fmt.Errorf("store: cannot prepare on %T", s.db)
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
