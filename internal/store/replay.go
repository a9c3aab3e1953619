package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ReplayScope chooses the events an endpoint missed: the team's events from
// the endpoint's sources, received in [Since, Until) (Until zero: no end),
// whose type its filters take, with a payload still stored, and with no
// delivery to it — or, with IncludeFailed, only failed ones.
type ReplayScope struct {
	TeamID     string
	EndpointID string
	SourceIDs  []string
	// EventTypes is the endpoint's filter, as ingest matches it: empty or
	// "*" takes every type, "invoice.*" every type starting "invoice.".
	EventTypes    []string
	Since, Until  time.Time
	IncludeFailed bool
}

// ReplayEvent is one event a replay step handles: FailedDelivery is the
// endpoint's failed delivery of it to re-queue, or empty (a new delivery
// is created).
type ReplayEvent struct {
	ID             string    `bun:"id"`
	ReceivedAt     time.Time `bun:"received_at"`
	FailedDelivery string    `bun:"failed_delivery"`
}

// replayQuery selects the scope's events. received_at bounds come first:
// events are partitioned by day, so only the days since Since are read.
func (s *Store) replayQuery(sc ReplayScope) *bun.SelectQuery {
	q := s.db.NewSelect().TableExpr("events AS e").
		Where("e.received_at >= ?", sc.Since).
		Where("e.team_id = ? AND e.source_id IN (?) AND NOT e.body_dropped", sc.TeamID, bun.In(sc.SourceIDs))
	if !sc.Until.IsZero() {
		q = q.Where("e.received_at < ?", sc.Until)
	}
	if exact, prefixes, all := splitTypeFilter(sc.EventTypes); !all {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			if len(exact) > 0 {
				q = q.WhereOr("e.event_type IN (?)", bun.In(exact))
			}
			for _, p := range prefixes {
				q = q.WhereOr("starts_with(e.event_type, ?)", p)
			}
			return q
		})
	}
	other := "d.event_id = e.id AND d.endpoint_id = ?"
	if sc.IncludeFailed {
		other += " AND d.status <> 'failed'"
	}
	return q.Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE "+other+")", sc.EndpointID)
}

// splitTypeFilter turns an endpoint's event-type filter into exact types
// and prefixes ("invoice.*" → "invoice."); all reports a filter that takes
// every type.
func splitTypeFilter(filter []string) (exact, prefixes []string, all bool) {
	if len(filter) == 0 {
		return nil, nil, true
	}
	for _, f := range filter {
		switch {
		case f == "*":
			return nil, nil, true
		case strings.HasSuffix(f, ".*"):
			prefixes = append(prefixes, f[:len(f)-1])
		default:
			exact = append(exact, f)
		}
	}
	return exact, prefixes, false
}

// ReplayCount is what a replay would handle now.
type ReplayCount struct {
	// Events is every event in scope; Failed those of them with a failed
	// delivery to re-queue (the rest get a new delivery).
	Events, Failed int
	// Upto is the highest event id in scope: a replay handles no later one.
	Upto string
}

// CountReplay counts the scope's events, at most limit of them (0: all),
// for a preview or the total of a job.
func (s *Store) CountReplay(ctx context.Context, sc ReplayScope, limit int) (ReplayCount, error) {
	var out ReplayCount
	if len(sc.SourceIDs) == 0 {
		return out, nil
	}
	inner := s.replayQuery(sc).Column("e.id").
		ColumnExpr(`EXISTS (SELECT 1 FROM deliveries f WHERE f.event_id = e.id AND f.endpoint_id = ? AND f.status = 'failed') AS failed`, sc.EndpointID)
	if limit > 0 {
		inner = inner.Limit(int64(limit))
	}
	err := s.db.NewSelect().TableExpr("(?) AS x", inner).
		ColumnExpr("count(*) AS events, count(*) FILTER (WHERE failed) AS failed, coalesce(max(id), '') AS upto").
		Scan(ctx, &out.Events, &out.Failed, &out.Upto)
	if err != nil {
		return out, fmt.Errorf("store: count replay of %s: %w", sc.EndpointID, err)
	}
	return out, nil
}

// NextReplay returns up to limit of the scope's events with after < id <=
// upto, in id order, each with its failed delivery to re-queue if any.
func (s *Store) NextReplay(ctx context.Context, sc ReplayScope, after, upto string, limit int) ([]ReplayEvent, error) {
	out := []ReplayEvent{}
	if len(sc.SourceIDs) == 0 {
		return out, nil
	}
	err := s.replayQuery(sc).Column("e.id", "e.received_at").
		ColumnExpr(`coalesce((SELECT max(f.id) FROM deliveries f WHERE f.event_id = e.id AND f.endpoint_id = ?
			AND f.status = 'failed'), '') AS failed_delivery`, sc.EndpointID).
		Where("e.id > ? AND e.id <= ?", after, upto).OrderExpr("e.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: next replay of %s: %w", sc.EndpointID, err)
	}
	return out, nil
}

// LockReplay serializes replays into one endpoint until the transaction
// ends, so two jobs (or steps) never both find an event undelivered and
// both create a delivery for it.
func (s *Store) LockReplay(ctx context.Context, endpointID string) error {
	if _, err := s.db.NewRaw(`SELECT pg_advisory_xact_lock(hashtextextended('replay:' || ?, 0))`, endpointID).Exec(ctx); err != nil {
		return fmt.Errorf("store: lock replay of %s: %w", endpointID, err)
	}
	return nil
}
