package store

import (
	"context"
	"fmt"
	"time"
)

// EndpointDeliveries is one page of an endpoint's deliveries, newest
// first, optionally in one status: a walk of the (endpoint_id, id DESC)
// index from the cursor before (the last id of the previous page).
func (s *Store) EndpointDeliveries(ctx context.Context, teamID, endpointID, status, before string, limit int) ([]Delivery, error) {
	var out []Delivery
	q := s.db.NewSelect().Model(&out).Where("team_id = ? AND endpoint_id = ?", teamID, endpointID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if before != "" {
		q = q.Where("id < ?", before)
	}
	if err := q.Order("id DESC").Limit(int64(clampLimit(limit))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: endpoint deliveries %s: %w", endpointID, err)
	}
	return out, nil
}

// AttemptStats are an endpoint's attempts in one time bucket: how many,
// how many succeeded (a 2xx answer), and the 50th and 95th percentiles of
// their durations.
type AttemptStats struct {
	Bucket    int     `bun:"bucket"`
	Attempts  int     `bun:"attempts"`
	Succeeded int     `bun:"succeeded"`
	P50MS     float64 `bun:"p50"`
	P95MS     float64 `bun:"p95"`
}

// EndpointAttemptStats buckets an endpoint's attempts started in
// [since, since+n*step) into n buckets of step. One query: the attempts
// table is partitioned by started_at, so the window reads only its days.
// Buckets without attempts are zero.
func (s *Store) EndpointAttemptStats(ctx context.Context, teamID, endpointID string, since time.Time, step time.Duration, n int) ([]AttemptStats, error) {
	var rows []AttemptStats
	err := s.db.NewRaw(`SELECT floor(extract(epoch FROM a.started_at - ?::timestamptz) / ?)::int AS bucket,
			count(*) AS attempts,
			count(*) FILTER (WHERE a.response_status BETWEEN 200 AND 299 AND a.error = '') AS succeeded,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
			percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95
		FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.endpoint_id = ? AND d.team_id = ? AND a.started_at >= ? AND a.started_at < ?
		GROUP BY 1 ORDER BY 1`, since, step.Seconds(), endpointID, teamID, since, since.Add(time.Duration(n)*step)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: endpoint attempt stats %s: %w", endpointID, err)
	}
	out := make([]AttemptStats, n)
	for i := range out {
		out[i].Bucket = i
	}
	for _, r := range rows {
		if r.Bucket >= 0 && r.Bucket < n {
			out[r.Bucket] = r
		}
	}
	return out, nil
}
