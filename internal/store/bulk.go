package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Bulk job statuses.
const (
	BulkRunning   = "running"
	BulkCancelled = "cancelled"
	BulkFinished  = "finished"
)

// BulkFilter chooses a team's failed deliveries. Empty fields match all;
// times bound the delivery's creation (its id), Since inclusive.
type BulkFilter struct {
	EndpointID string    `json:"endpoint_id,omitempty"`
	SourceID   string    `json:"source_id,omitempty"`
	EventType  string    `json:"event_type,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	Until      time.Time `json:"until,omitzero"`
	// IncludeFailed is for replay jobs (kind "replay", relay/replay.go),
	// which choose events, not failed deliveries: events that only have a
	// failed delivery to the endpoint are re-queued too. Since is then
	// the earliest received_at, and EndpointID the endpoint replayed to.
	IncludeFailed bool `json:"include_failed,omitempty"`
}

// BulkJob is a background redelivery of many failed deliveries.
type BulkJob struct {
	bun.BaseModel `bun:"table:bulk_jobs"`

	ID         string     `bun:"id,pk"`
	TeamID     string     `bun:"team_id"`
	Kind       string     `bun:"kind"`
	Filter     BulkFilter `bun:"filter,type:jsonb"`
	Total      int        `bun:"total"`
	Done       int        `bun:"done"`
	Cursor     string     `bun:"cursor"`
	Upto       string     `bun:"upto"`
	BatchSize  int        `bun:"batch_size"`
	PauseMS    int        `bun:"pause_ms"`
	Status     string     `bun:"status"`
	CreatedBy  string     `bun:"created_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	UpdatedAt  time.Time  `bun:"updated_at"`
	FinishedAt *time.Time `bun:"finished_at"`
}

// failedWhere adds the filter's conditions to a query over deliveries d
// joined to events e.
func failedWhere(q *bun.SelectQuery, teamID string, f BulkFilter) *bun.SelectQuery {
	q = q.Where("d.team_id = ? AND d.status = 'failed'", teamID)
	if f.EndpointID != "" {
		q = q.Where("d.endpoint_id = ?", f.EndpointID)
	}
	if f.SourceID != "" {
		q = q.Where("e.source_id = ?", f.SourceID)
	}
	if f.EventType != "" {
		q = q.Where("e.event_type = ?", f.EventType)
	}
	if !f.Since.IsZero() {
		q = q.Where("d.id >= ?", idAt("dlv", f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("d.id < ?", idAt("dlv", f.Until))
	}
	return q
}

func (s *Store) failedQuery(teamID string, f BulkFilter) *bun.SelectQuery {
	q := s.db.NewSelect().TableExpr("deliveries AS d")
	if f.SourceID != "" || f.EventType != "" {
		q = q.Join("JOIN events AS e ON e.id = d.event_id")
	}
	return failedWhere(q, teamID, f)
}

// CountFailed counts a team's failed deliveries matching f and returns the
// highest matching id (empty when none match).
func (s *Store) CountFailed(ctx context.Context, teamID string, f BulkFilter) (n int, maxID string, err error) {
	var row struct {
		N   int    `bun:"n"`
		Max string `bun:"max_id"`
	}
	err = s.failedQuery(teamID, f).ColumnExpr("count(*) AS n, coalesce(max(d.id), '') AS max_id").Scan(ctx, &row)
	if err != nil {
		return 0, "", fmt.Errorf("store: count failed deliveries: %w", err)
	}
	return row.N, row.Max, nil
}

// NextFailed returns up to limit ids of failed deliveries matching f with
// after < id <= upto, in id order, locked until the transaction ends.
func (s *Store) NextFailed(ctx context.Context, teamID string, f BulkFilter, after, upto string, limit int) ([]string, error) {
	var ids []string
	q := s.failedQuery(teamID, f).Column("d.id").Where("d.id > ? AND d.id <= ?", after, upto).
		OrderExpr("d.id").Limit(int64(limit)).For("UPDATE OF d")
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: next failed deliveries: %w", err)
	}
	return ids, nil
}

// ResetFailed makes those of ids that are still failed pending and due now,
// and returns them.
func (s *Store) ResetFailed(ctx context.Context, teamID string, ids []string, now time.Time) ([]Delivery, error) {
	var out []Delivery
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.NewRaw(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE team_id = ? AND id IN (?) AND status = 'failed' RETURNING *`, now, now, teamID, bun.In(ids)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: reset failed deliveries: %w", err)
	}
	return out, nil
}

// CreateBulkJob inserts a job.
func (s *Store) CreateBulkJob(ctx context.Context, j *BulkJob) error {
	if _, err := s.db.NewInsert().Model(j).Exec(ctx); err != nil {
		return fmt.Errorf("store: create bulk job: %w", err)
	}
	return nil
}

// GetBulkJob loads a team's job.
func (s *Store) GetBulkJob(ctx context.Context, teamID, id string) (*BulkJob, error) {
	j := new(BulkJob)
	if err := s.db.NewSelect().Model(j).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "bulk job", id)
	}
	return j, nil
}

// LockBulkJob loads any team's job and locks it until the transaction
// ends, so two steps of one job never run at once.
func (s *Store) LockBulkJob(ctx context.Context, id string) (*BulkJob, error) {
	j := new(BulkJob)
	if err := s.db.NewSelect().Model(j).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, notFound(err, "bulk job", id)
	}
	return j, nil
}

// ListBulkJobs returns a team's latest jobs, newest first.
func (s *Store) ListBulkJobs(ctx context.Context, teamID string, limit int) ([]BulkJob, error) {
	var out []BulkJob
	err := s.db.NewSelect().Model(&out).Where("team_id = ?", teamID).Order("id DESC").Limit(int64(clampLimit(limit))).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list bulk jobs: %w", err)
	}
	return out, nil
}

// RunningBulkJobs lists every team's running jobs.
func (s *Store) RunningBulkJobs(ctx context.Context) ([]BulkJob, error) {
	var out []BulkJob
	err := s.db.NewSelect().Model(&out).Where("status = 'running'").Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: running bulk jobs: %w", err)
	}
	return out, nil
}

// AdvanceBulkJob records a step: the new cursor, deliveries handled, and
// the status (finished sets finished_at).
func (s *Store) AdvanceBulkJob(ctx context.Context, id, cursor string, handled int, status string, now time.Time) error {
	_, err := s.db.NewRaw(`UPDATE bulk_jobs SET cursor = ?, done = done + ?, status = ?, updated_at = ?,
		finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ?::timestamptz END WHERE id = ?`,
		cursor, handled, status, now, status, now, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: advance bulk job %s: %w", id, err)
	}
	return nil
}

// CancelBulkJob marks a running job cancelled; ErrNotFound when the team
// has no such running job.
func (s *Store) CancelBulkJob(ctx context.Context, teamID, id string, now time.Time) error {
	res, err := s.db.NewRaw(`UPDATE bulk_jobs SET status = 'cancelled', updated_at = ?, finished_at = ?
		WHERE team_id = ? AND id = ? AND status = 'running'`, now, now, teamID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: cancel bulk job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: cancel bulk job %s: %w", id, ErrNotFound)
	}
	return nil
}
