package relay

import (
	"context"
	"errors"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// BulkThrottle paces a bulk redelivery job, so a huge one neither floods
// the endpoints nor hogs the worker.
type BulkThrottle struct {
	// Batch is how many deliveries one step redelivers.
	Batch int
	// Pause is the wait between steps.
	Pause time.Duration
}

// DefaultBulkThrottle is what StartBulk uses.
var DefaultBulkThrottle = BulkThrottle{Batch: 100, Pause: time.Second}

func checkBulkFilter(f store.BulkFilter) error {
	if err := checkBulkLengths(f); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return invalid("until", "must be after since")
	}
	return nil
}

// CountBulk counts the team's failed deliveries that f matches: what a bulk
// job would redeliver if started now.
func (r *Relay) CountBulk(ctx context.Context, teamID string, f store.BulkFilter) (int, error) {
	if err := checkBulkFilter(f); err != nil {
		return 0, err
	}
	n, _, err := r.st.CountFailed(ctx, teamID, f)
	return n, err
}

// StartBulk starts a job that redelivers the failed deliveries f matches,
// with the default throttle.
func (r *Relay) StartBulk(ctx context.Context, a Actor, f store.BulkFilter) (*store.BulkJob, error) {
	return r.StartBulkThrottled(ctx, a, f, DefaultBulkThrottle)
}

// StartBulkThrottled starts a bulk redelivery job paced by th. Deliveries
// that fail after the start are not part of it. The job is audited once,
// here, not per delivery.
func (r *Relay) StartBulkThrottled(ctx context.Context, a Actor, f store.BulkFilter, th BulkThrottle) (*store.BulkJob, error) {
	if err := checkBulkFilter(f); err != nil {
		return nil, err
	}
	now := r.Now()
	j := &store.BulkJob{ID: store.NewID("bulk"), TeamID: a.TeamID, Kind: BulkKindRedeliver, Filter: f,
		BatchSize: max(th.Batch, 1), PauseMS: int(th.Pause.Milliseconds()), Status: store.BulkRunning,
		CreatedBy: a.String(), CreatedAt: now, UpdatedAt: now}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		n, upto, err := tx.CountFailed(ctx, a.TeamID, f)
		if err != nil {
			return err
		}
		if n == 0 {
			return invalid("filter", "no failed deliveries match")
		}
		j.Total, j.Upto = n, upto
		if err := tx.CreateBulkJob(ctx, j); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "bulk.redeliver", "bulk_job", j.ID, map[string]any{"filter": f, "total": n})
	})
	if err != nil {
		return nil, err
	}
	r.enqueueStep(ctx, j.ID)
	return j, nil
}

// enqueueStep queues the first step of a job just saved.
func (r *Relay) enqueueStep(ctx context.Context, jobID string) {
	if err := r.enqueue(ctx, task.NewBulkRedeliver(task.BulkRedeliver{JobID: jobID}, time.Time{})); err != nil {
		// The job is saved; the worker resumes running jobs when it starts.
		r.log.Warn("enqueue_failed", "bulk_job_id", jobID, "error", err.Error())
	}
}

// CancelBulk stops a running job before its next step; deliveries already
// redelivered stay queued.
func (r *Relay) CancelBulk(ctx context.Context, a Actor, jobID string) (*store.BulkJob, error) {
	var j *store.BulkJob
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if j, err = tx.GetBulkJob(ctx, a.TeamID, jobID); err != nil {
			return err
		}
		if j.Status != store.BulkRunning {
			return invalid("status", "the job is %s already", j.Status)
		}
		if err := tx.CancelBulkJob(ctx, a.TeamID, jobID, r.Now()); err != nil {
			return err
		}
		j.Status = store.BulkCancelled
		return r.audit(ctx, tx, a, "bulk.cancel", "bulk_job", jobID, map[string]any{"done": j.Done, "total": j.Total})
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// BulkStep runs one step of a job: it locks the job, resets the next batch
// of matching failed deliveries to pending (a replay job: gives the next
// batch of missed events a delivery, replay.go) and advances the cursor
// in one transaction, then enqueues a manual attempt for each and the
// next step.
// A step that expects another cursor is stale (a retry or a duplicate):
// it only makes sure the current step is queued.
func (r *Relay) BulkStep(ctx context.Context, p task.BulkRedeliver) error {
	var (
		ds     []store.Delivery
		replay []store.ClaimRequest
		job    store.BulkJob
		stale  bool
	)
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		j, err := tx.LockBulkJob(ctx, p.JobID)
		if err != nil {
			return err
		}
		job = *j
		if j.Status != store.BulkRunning {
			return nil
		}
		if j.Cursor != p.Cursor {
			stale = true
			return nil
		}
		if j.Kind == BulkKindReplay {
			var n int
			if replay, n, job.Cursor, job.Status, err = r.replayBatch(ctx, tx, j); err != nil {
				return err
			}
			job.Done += n
			return tx.AdvanceBulkJob(ctx, j.ID, job.Cursor, n, job.Status, r.Now())
		}
		ids, err := tx.NextFailed(ctx, j.TeamID, j.Filter, j.Cursor, j.Upto, j.BatchSize)
		if err != nil {
			return err
		}
		if ds, err = tx.ResetFailed(ctx, j.TeamID, ids, r.Now()); err != nil {
			return err
		}
		if len(ids) > 0 {
			job.Cursor = ids[len(ids)-1]
		}
		if len(ids) < j.BatchSize {
			job.Status = store.BulkFinished
		}
		return tx.AdvanceBulkJob(ctx, j.ID, job.Cursor, len(ids), job.Status, r.Now())
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // the job is gone; nothing to do
	}
	if err != nil {
		return err
	}
	// Committed: a delivery whose task is lost here is pending and due, so
	// the sweeper sends it.
	for i := range ds {
		r.enqueueManual(ctx, &ds[i])
	}
	for len(replay) > 0 {
		k := min(len(replay), Wave)
		r.enqueueGroups(ctx, replay[:k], job.Filter.EndpointID, true, "p"+job.ID+"_"+job.Cursor, r.now())
		replay = replay[k:]
	}
	if job.Status != store.BulkRunning {
		if job.Status == store.BulkFinished && !stale {
			r.log.Info("bulk_job_finished", "bulk_job_id", job.ID, "done", job.Done+len(ds))
		}
		return nil
	}
	next := r.now().Add(time.Duration(job.PauseMS) * time.Millisecond)
	// An error makes asynq retry this step, which is then stale and only
	// enqueues the current one again.
	return r.enqueue(ctx, task.NewBulkRedeliver(task.BulkRedeliver{JobID: job.ID, Cursor: job.Cursor}, next))
}

// ResumeBulk enqueues the current step of every running job, for a worker
// that starts after Redis lost them. Steps still queued absorb the
// duplicate by task id. It returns how many jobs are running.
func (r *Relay) ResumeBulk(ctx context.Context) (int, error) {
	jobs, err := r.st.RunningBulkJobs(ctx)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		t := task.NewBulkRedeliver(task.BulkRedeliver{JobID: j.ID, Cursor: j.Cursor}, time.Time{})
		if err := r.enqueue(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(jobs), nil
}
