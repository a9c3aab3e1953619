package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Backfill job states.
const (
	BackfillRunning   = "running"
	BackfillCancelled = "cancelled"
	BackfillFinished  = "finished"
	BackfillFailed    = "failed"
)

// BackfillJob lists a Stripe source's events since a time from Stripe's
// Events API and ingests those the relay never stored (migration 0012).
type BackfillJob struct {
	bun.BaseModel `bun:"table:backfill_jobs"`

	ID       string    `bun:"id,pk" json:"id"`
	TeamID   string    `bun:"team_id" json:"-"`
	SourceID string    `bun:"source_id" json:"source_id"`
	Since    time.Time `bun:"since" json:"since"`
	// Types are the event types asked of Stripe; empty means all.
	Types  []string `bun:"types,array" json:"types"`
	Status string   `bun:"status" json:"status"`
	// Pages, Found, New and Ingested count pages read, events listed,
	// events not stored before, and events stored by this job.
	Pages    int `bun:"pages" json:"pages"`
	Found    int `bun:"found" json:"found"`
	New      int `bun:"new" json:"new"`
	Ingested int `bun:"ingested" json:"ingested"`
	// Reached is the creation time of the oldest event listed so far.
	Reached    *time.Time `bun:"reached" json:"reached,omitempty"`
	Error      string     `bun:"error" json:"error,omitempty"`
	CreatedBy  string     `bun:"created_by" json:"created_by"`
	CreatedAt  time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt  time.Time  `bun:"updated_at" json:"updated_at"`
	FinishedAt *time.Time `bun:"finished_at" json:"finished_at,omitempty"`
}

// Percent is how far a job got, from the time span it has listed
// (Stripe lists newest first): 100 once it is over.
func (j *BackfillJob) Percent() int {
	if j.Status != BackfillRunning {
		return 100
	}
	if j.Reached == nil {
		return 0
	}
	span := j.CreatedAt.Sub(j.Since)
	if span <= 0 {
		return 99
	}
	return min(99, max(0, int(100*j.CreatedAt.Sub(*j.Reached)/span)))
}

// CreateBackfillJob inserts a job.
func (s *Store) CreateBackfillJob(ctx context.Context, j *BackfillJob) error {
	if j.Types == nil {
		j.Types = []string{}
	}
	if _, err := s.db.NewInsert().Model(j).Exec(ctx); err != nil {
		return fmt.Errorf("store: create backfill job: %w", err)
	}
	return nil
}

// GetBackfillJob loads a team's job.
func (s *Store) GetBackfillJob(ctx context.Context, teamID, id string) (*BackfillJob, error) {
	j := new(BackfillJob)
	if err := s.db.NewSelect().Model(j).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "backfill job", id)
	}
	return j, nil
}

// LoadBackfillJob loads any team's job, for the worker.
func (s *Store) LoadBackfillJob(ctx context.Context, id string) (*BackfillJob, error) {
	j := new(BackfillJob)
	if err := s.db.NewSelect().Model(j).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "backfill job", id)
	}
	return j, nil
}

// ListBackfillJobs returns a source's latest jobs, newest first.
func (s *Store) ListBackfillJobs(ctx context.Context, teamID, sourceID string, limit int) ([]BackfillJob, error) {
	out := []BackfillJob{}
	err := s.db.NewSelect().Model(&out).Where("team_id = ? AND source_id = ?", teamID, sourceID).
		Order("id DESC").Limit(int64(clampLimit(limit))).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list backfill jobs: %w", err)
	}
	return out, nil
}

// SaveBackfillProgress stores a running job's counters and reports
// whether it is still running: false means it was cancelled meanwhile
// and must stop.
func (s *Store) SaveBackfillProgress(ctx context.Context, j *BackfillJob) (running bool, err error) {
	res, err := s.db.NewUpdate().Model(j).Column("pages", "found", "new", "ingested", "reached", "updated_at").
		Where("id = ? AND status = ?", j.ID, BackfillRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: backfill job %s progress: %w", j.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishBackfillJob moves a running job to status (finished, failed or
// cancelled) with its counters; false when it was no longer running.
func (s *Store) FinishBackfillJob(ctx context.Context, j *BackfillJob, status string, at time.Time) (bool, error) {
	j.Status, j.UpdatedAt, j.FinishedAt = status, at, &at
	res, err := s.db.NewUpdate().Model(j).
		Column("status", "pages", "found", "new", "ingested", "reached", "error", "updated_at", "finished_at").
		Where("id = ? AND status = ?", j.ID, BackfillRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: finish backfill job %s: %w", j.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// KnownProviderEventIDs returns which of ids the source already stored
// an event for (event_keys, the ingest path's own dedup key).
func (s *Store) KnownProviderEventIDs(ctx context.Context, sourceID string, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return known, nil
	}
	var rows []string
	err := s.db.NewRaw(`SELECT provider_event_id FROM event_keys WHERE source_id = ? AND provider_event_id IN (?)`,
		sourceID, bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: known events of %s: %w", sourceID, err)
	}
	for _, id := range rows {
		known[id] = true
	}
	return known, nil
}
