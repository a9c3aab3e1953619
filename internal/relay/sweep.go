package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/task"
)

// sweepBatch bounds one sweep; the next tick takes the rest.
const sweepBatch = 1000

// Sweep re-enqueues pending deliveries that are overdue: their task was
// never enqueued, Redis lost it, or the worker running it died. It returns
// how many tasks it (re)enqueued. Postgres is the source of truth, so this
// alone makes Redis an accelerator rather than a store.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	due, err := r.st.DueDeliveries(ctx, r.Now().Add(-r.opt.SweepGrace), sweepBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		t := task.NewDeliver(task.Deliver{DeliveryID: d.ID, EndpointID: d.EndpointID, Attempt: d.Attempts + 1}, "", r.now())
		ok, err := r.requeue(ctx, t, task.DeliverTaskID(d.ID, d.Attempts+1, ""))
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	r.m.Swept(n)
	if n > 0 {
		r.log.Info("sweeper_requeued", "count", n, "due", len(due))
	}
	return n, nil
}

// SweepLag is how long ago the oldest pending delivery that is overdue by
// more than the sweep grace became due: 0 while the pipeline keeps up. It is read at scrape time
// (hookrelay_sweeper_lag_seconds) from the partial index the sweeper uses,
// so it is one index probe and shows the same thing in every process.
func (r *Relay) SweepLag(ctx context.Context) (time.Duration, error) {
	now := r.Now()
	var oldest *time.Time
	err := r.st.DB().NewRaw(`SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at < ?`,
		now.Add(-r.opt.SweepGrace)).Scan(ctx, &oldest)
	if err != nil {
		return 0, fmt.Errorf("relay: sweep lag: %w", err)
	}
	if oldest == nil {
		return 0, nil
	}
	return now.Sub(*oldest), nil
}

// requeue enqueues t; when its id is taken by a task that will never run
// again (archived after asynq gave up, or completed), that task is deleted
// and t enqueued in its place. It reports whether t was enqueued.
func (r *Relay) requeue(ctx context.Context, t *asynq.Task, id string) (bool, error) {
	if r.enq == nil {
		return false, errors.New("relay: no task queue configured")
	}
	_, err := r.enq.EnqueueContext(ctx, t)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, err
	}
	if r.insp == nil {
		return false, nil
	}
	info, err := r.insp.GetTaskInfo(task.QueueDeliveries, id)
	if err != nil || (info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted) {
		return false, nil // queued, scheduled, running or retrying: it will run
	}
	if err := r.insp.DeleteTask(task.QueueDeliveries, id); err != nil {
		return false, nil
	}
	_, err = r.enq.EnqueueContext(ctx, t)
	return err == nil, err
}
