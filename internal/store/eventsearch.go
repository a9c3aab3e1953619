package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	if _, ok := IDTime(id); !ok {
		// Not a hookrelay id (a ULID): most likely a provider's, found
		// through its deduplication key without reading every partition.
		if e, err := s.eventByKey(ctx, teamID, id, "body", "headers"); err == nil || !errors.Is(err, ErrNotFound) {
			return e, err
		}
	}
	e, err := s.lookupEvent(ctx, teamID, id, "body", "headers")
	if err == nil || !errors.Is(err, ErrNotFound) {
		return e, err
	}
	e = new(Event)
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
		q = whereMatch(q, "action", f.Action)
	}
	if f.Actor != "" {
		op, v := "=", f.Actor
		if IsPattern(v) {
			op, v = "LIKE", likePattern(v)
		}
		q = q.Where("(actor "+op+" ? OR substr(actor, strpos(actor, ':') + 1) "+op+" ?)", v, v)
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

// IsPattern reports whether a filter value is a wildcard pattern: a *
// matches any run of characters, as in subscriptions (invoice.*).
func IsPattern(v string) bool { return strings.Contains(v, "*") }

// likePattern turns a * pattern into a LIKE pattern, escaping LIKE's own
// wildcards (the default escape character is the backslash).
func likePattern(v string) string {
	v = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(v)
	return strings.ReplaceAll(v, "*", "%")
}

// whereMatch filters col on v: equality, which the indexes serve, unless v
// is a pattern. A pattern with a literal prefix (invoice.*) is still a
// range scan for LIKE under the C collation, and otherwise a filter over
// rows the other conditions bound.
func whereMatch(q *bun.SelectQuery, col, v string) *bun.SelectQuery {
	if !IsPattern(v) {
		return q.Where("? = ?", bun.Ident(col), v)
	}
	return q.Where("? LIKE ?", bun.Ident(col), likePattern(v))
}

// SeenEventTypes lists the distinct event types of a team's newest events
// (of one source when sourceID is set), for the type filter's suggestions.
// It reads at most scan rows through the (team_id, id) or (source_id, id)
// index, so its cost is bounded however many events the team has.
func (s *Store) SeenEventTypes(ctx context.Context, teamID, sourceID string, scan int) ([]string, error) {
	inner := s.db.NewSelect().Table("events").Column("event_type").Where("team_id = ?", teamID)
	if sourceID != "" {
		inner = inner.Where("source_id = ?", sourceID)
	}
	inner = inner.Where("event_type <> ''").Order("id DESC").Limit(int64(scan))
	var out []string
	err := s.db.NewSelect().TableExpr("(?) AS t", inner).ColumnExpr("DISTINCT event_type").
		OrderExpr("event_type").Limit(500).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: seen event types: %w", err)
	}
	return out, nil
}
