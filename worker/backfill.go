package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/task"
)

// handleBackfill adapts a stripe:backfill task to relay.RunBackfill.
func (w *Worker) handleBackfill(ctx context.Context, t *asynq.Task) error {
	p, err := task.ParseBackfill(t)
	if err != nil {
		return err
	}
	return w.relay.RunBackfill(ctx, p.JobID, nil)
}
