package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Lookups by id on the day-partitioned tables (migration 0005). events'
// primary key is (id, received_at), so "WHERE id = ?" alone probes the
// index of every partition (30+ with the default retention). Ids are
// ULIDs, and ingest mints an event's id when it stores the event, with
// received_at the request's arrival a moment earlier; so the id's time
// says which day partition holds the row, and a lookup adds received_at
// bounds that let PostgreSQL prune to one partition (two near midnight).
//
// Other paths may set received_at apart from the id's time (a clock
// injected in tests, ids made by NewIDAt, rows imported by hand), so a
// lookup that finds nothing in the pruned range asks again without the
// bounds: an existing event is never missed; only a miss costs the probe
// of every partition.

// idTimeMargin is how far received_at may lie from an id's time for the
// pruned lookup to find the row at the first try. Ingest mints the id
// milliseconds after arrival (the batcher's wait, a slow request body);
// a minute-scale margin leaves room for clock steps.
const idTimeMargin = 10 * time.Minute

// IDTime is the creation time a prefixed ULID id (evt_…, dlv_…) encodes;
// ok is false when id is not one.
func IDTime(id string) (t time.Time, ok bool) {
	i := strings.IndexByte(id, '_')
	if i < 0 || len(id)-i-1 != ulid.EncodedSize {
		return time.Time{}, false
	}
	u, err := ulid.ParseStrict(id[i+1:])
	if err != nil {
		return time.Time{}, false
	}
	return ulid.Time(u.Time()).UTC(), true
}

// lookupEvent loads a team's event by id (without the columns in
// exclude), first in the partitions its id's time points at.
func (s *Store) lookupEvent(ctx context.Context, teamID, id string, exclude ...string) (*Event, error) {
	e := new(Event)
	sel := func(pruned bool, at time.Time) error {
		q := s.db.NewSelect().Model(e).Where("team_id = ? AND id = ?", teamID, id)
		if len(exclude) > 0 {
			q = q.ExcludeColumn(exclude...)
		}
		if pruned {
			q = q.Where("received_at BETWEEN ? AND ?", at.Add(-idTimeMargin), at.Add(idTimeMargin))
		}
		return q.Scan(ctx)
	}
	if at, ok := IDTime(id); ok {
		err := sel(true, at)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(err, "event", id)
		}
	}
	if err := sel(false, time.Time{}); err != nil {
		return nil, notFound(err, "event", id)
	}
	return e, nil
}

// AttemptsOfDelivery lists a delivery's attempts in order. Attempts start
// after their delivery exists, so partitions of days before both its
// created_at (its event's received_at) and its id's time (a replay mints
// the id later) are skipped. A delivery counts its attempts: if fewer
// rows than that turn up, they are read again from every partition (a
// clock that went back; an attempt claimed but not yet recorded).
func (s *Store) AttemptsOfDelivery(ctx context.Context, d *Delivery) ([]Attempt, error) {
	from := d.CreatedAt
	if at, ok := IDTime(d.ID); ok && at.Before(from) {
		from = at
	}
	var out []Attempt
	q := s.db.NewSelect().Model(&out).Where("delivery_id = ?", d.ID)
	if !from.IsZero() {
		q = q.Where("started_at >= ?", from.Add(-idTimeMargin))
	}
	if err := q.Order("n").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: attempts of %s: %w", d.ID, err)
	}
	if len(out) >= d.Attempts && !from.IsZero() {
		return out, nil
	}
	return s.AttemptsOf(ctx, d.ID)
}

// eventByKey finds a team's event by a provider's event id through its
// deduplication key (event_keys' primary key, once per source of the
// team), then reads it from its one partition: the key holds the event's
// received_at. ErrNotFound when no key matches (an event stored without
// one, a key already trimmed): the caller then searches the events.
func (s *Store) eventByKey(ctx context.Context, teamID, pid string, exclude ...string) (*Event, error) {
	var keys []struct {
		EventID    string    `bun:"event_id"`
		ReceivedAt time.Time `bun:"received_at"`
	}
	err := s.db.NewRaw(`SELECT k.event_id, k.received_at FROM event_keys k JOIN sources src ON src.id = k.source_id
		WHERE src.team_id = ? AND k.provider_event_id = ? ORDER BY k.event_id DESC LIMIT 1`, teamID, pid).Scan(ctx, &keys)
	if err != nil {
		return nil, fmt.Errorf("store: event by provider id %s: %w", pid, err)
	}
	if len(keys) == 0 {
		return nil, notFound(sql.ErrNoRows, "event", pid)
	}
	e := new(Event)
	q := s.db.NewSelect().Model(e).Where("team_id = ? AND id = ? AND received_at = ?", teamID, keys[0].EventID, keys[0].ReceivedAt)
	if len(exclude) > 0 {
		q = q.ExcludeColumn(exclude...)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "event", pid)
	}
	return e, nil
}
