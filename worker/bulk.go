package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/task"
)

// handleBulkRedeliver adapts a bulk:redeliver task to relay.BulkStep.
func (w *Worker) handleBulkRedeliver(ctx context.Context, t *asynq.Task) error {
	p, err := task.ParseBulkRedeliver(t)
	if err != nil {
		return err
	}
	return w.relay.BulkStep(ctx, p)
}

// resumeBulk re-enqueues the running bulk jobs' steps, in case Redis lost
// them while no worker ran; a step still queued absorbs the duplicate.
func (w *Worker) resumeBulk(ctx context.Context) {
	n, err := w.relay.ResumeBulk(ctx)
	if err != nil {
		w.log.Warn("bulk_resume_failed", "error", err.Error())
		return
	}
	if n > 0 {
		w.log.Info("bulk_jobs_resumed", "count", n)
	}
}
