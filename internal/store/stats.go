package store

import (
	"context"
	"fmt"
	"time"
)

// TrafficBucket counts one hour or day of a team's traffic: events
// received, and the deliveries created then by their current status.
type TrafficBucket struct {
	At        time.Time `bun:"at"`
	Events    int       `bun:"events"`
	Succeeded int       `bun:"succeeded"`
	Failed    int       `bun:"failed"`
	Pending   int       `bun:"pending"`
}

// Traffic counts a team's events and deliveries from since to until in
// buckets of unit ("hour" or "day", in UTC), one bucket per unit even when
// empty, oldest first. Ids are ULIDs minted at receipt, so the time range
// becomes an id range on the (team_id, id) and primary key indexes.
func (s *Store) Traffic(ctx context.Context, teamID string, since, until time.Time, unit string) ([]TrafficBucket, error) {
	if unit != "hour" && unit != "day" {
		return nil, fmt.Errorf("store: traffic: unit %q", unit)
	}
	step := time.Hour
	if unit == "day" {
		step = 24 * time.Hour
	}
	start := since.UTC().Truncate(step)
	var out []TrafficBucket
	for t := start; !t.After(until); t = t.Add(step) {
		out = append(out, TrafficBucket{At: t})
	}
	index := func(t time.Time) int {
		i := int(t.UTC().Sub(start) / step)
		if i < 0 || i >= len(out) {
			return -1
		}
		return i
	}
	var evs []TrafficBucket
	err := s.db.NewRaw(`SELECT date_trunc(?, received_at, 'UTC') AS at, count(*) AS events FROM events
		WHERE team_id = ? AND id >= ? GROUP BY 1`, unit, teamID, idAt("evt", start)).Scan(ctx, &evs)
	if err != nil {
		return nil, fmt.Errorf("store: traffic events: %w", err)
	}
	for _, b := range evs {
		if i := index(b.At); i >= 0 {
			out[i].Events = b.Events
		}
	}
	var ds []TrafficBucket
	err = s.db.NewRaw(`SELECT date_trunc(?, created_at, 'UTC') AS at,
		count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
		count(*) FILTER (WHERE status = 'failed') AS failed,
		count(*) FILTER (WHERE status = 'pending') AS pending
		FROM deliveries WHERE id >= ? AND team_id = ? GROUP BY 1`, unit, idAt("dlv", start), teamID).Scan(ctx, &ds)
	if err != nil {
		return nil, fmt.Errorf("store: traffic deliveries: %w", err)
	}
	for _, b := range ds {
		if i := index(b.At); i >= 0 {
			out[i].Succeeded, out[i].Failed, out[i].Pending = b.Succeeded, b.Failed, b.Pending
		}
	}
	return out, nil
}

// EndpointHealth is an endpoint's recent record.
type EndpointHealth struct {
	EndpointID string
	// Hourly holds, per hour from the start of the window, the deliveries
	// that succeeded and those that failed or are retrying after a failure.
	HourlyOK, HourlyBad []int
	OK, Bad             int
	// The newest attempt made in the window, whichever delivery it was
	// for (a redelivered old one, say): when it started and its answer.
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
}

// Rate is the success ratio in [0,1], or -1 without attempts.
func (h *EndpointHealth) Rate() float64 {
	if h.OK+h.Bad == 0 {
		return -1
	}
	return float64(h.OK) / float64(h.OK+h.Bad)
}

// EndpointsHealth returns the health of every endpoint of a team over the
// hours since since, keyed by endpoint id.
func (s *Store) EndpointsHealth(ctx context.Context, teamID string, since time.Time, hours int) (map[string]*EndpointHealth, error) {
	start := since.UTC().Truncate(time.Hour)
	var rows []struct {
		EndpointID string    `bun:"endpoint_id"`
		At         time.Time `bun:"at"`
		OK         int       `bun:"ok"`
		Bad        int       `bun:"bad"`
	}
	err := s.db.NewRaw(`SELECT endpoint_id, date_trunc('hour', created_at, 'UTC') AS at,
		count(*) FILTER (WHERE status = 'succeeded') AS ok,
		count(*) FILTER (WHERE status = 'failed' OR (status = 'pending' AND attempts > 0)) AS bad
		FROM deliveries WHERE id >= ? AND team_id = ? GROUP BY 1, 2`, idAt("dlv", start), teamID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: endpoint health: %w", err)
	}
	out := map[string]*EndpointHealth{}
	get := func(id string) *EndpointHealth {
		h, ok := out[id]
		if !ok {
			h = &EndpointHealth{EndpointID: id, HourlyOK: make([]int, hours), HourlyBad: make([]int, hours)}
			out[id] = h
		}
		return h
	}
	for _, r := range rows {
		h := get(r.EndpointID)
		if i := int(r.At.Sub(start) / time.Hour); i >= 0 && i < hours {
			h.HourlyOK[i] += r.OK
			h.HourlyBad[i] += r.Bad
		}
		h.OK += r.OK
		h.Bad += r.Bad
	}
	var last []struct {
		EndpointID string    `bun:"endpoint_id"`
		StartedAt  time.Time `bun:"started_at"`
		LastStatus int       `bun:"last_status"`
		LastError  string    `bun:"last_error"`
	}
	// From the attempts themselves, not the newest delivery: a bulk
	// redelivery attempts old deliveries. started_at bounds it to the
	// window's day partitions.
	err = s.db.NewRaw(`SELECT DISTINCT ON (d.endpoint_id) d.endpoint_id, a.started_at,
			a.response_status AS last_status, a.error AS last_error
		FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE a.started_at >= ? AND d.team_id = ?
		ORDER BY d.endpoint_id, a.started_at DESC, a.n DESC`, start, teamID).Scan(ctx, &last)
	if err != nil {
		return nil, fmt.Errorf("store: endpoint last attempts: %w", err)
	}
	for _, l := range last {
		h := get(l.EndpointID)
		at := l.StartedAt
		h.LastAttemptAt, h.LastStatus, h.LastError = &at, l.LastStatus, l.LastError
	}
	return out, nil
}

// RecentDeliveries lists an endpoint's latest deliveries, newest first.
func (s *Store) RecentDeliveries(ctx context.Context, teamID, endpointID string, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.db.NewSelect().Model(&out).Where("team_id = ? AND endpoint_id = ?", teamID, endpointID).
		Order("id DESC").Limit(int64(clampLimit(limit))).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of endpoint %s: %w", endpointID, err)
	}
	return out, nil
}
