package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/task"
)

// RetentionOptions schedule the retention maintenance.
type RetentionOptions struct {
	// Interval is how often the maintenance task is enqueued (and it is
	// also enqueued at start); 0 leaves scheduling to other replicas (the
	// handler still runs tasks they enqueue).
	Interval time.Duration
	// Policy is how long data is kept.
	Policy relay.RetentionPolicy
}

// newRetentionScheduler returns the asynq scheduler that enqueues the
// maintenance task every o.Interval, or nil when o.Interval is 0. Every
// replica runs one; the task is unique, so their ticks collapse into one
// run.
func newRetentionScheduler(redis asynq.RedisConnOpt, log *slog.Logger, o RetentionOptions) *asynq.Scheduler {
	if o.Interval <= 0 {
		return nil
	}
	s := asynq.NewScheduler(redis, &asynq.SchedulerOpts{
		Logger:   slogAdapter{log.With("component", "asynq_scheduler")},
		LogLevel: asynq.WarnLevel,
		Location: time.UTC,
		PostEnqueueFunc: func(_ *asynq.TaskInfo, err error) {
			if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
				log.Warn("retention_enqueue_failed", "error", err.Error())
			}
		},
	})
	if _, err := s.Register(fmt.Sprintf("@every %s", o.Interval), task.NewRetention()); err != nil {
		// Only a malformed spec fails, and a positive duration never is.
		log.Error("retention_schedule_failed", "error", err.Error())
		return nil
	}
	return s
}

// startRetention starts the scheduler and enqueues a first run now.
func (w *Worker) startRetention(ctx context.Context) error {
	if w.sched == nil {
		return nil
	}
	if err := w.sched.Start(); err != nil {
		return fmt.Errorf("worker: start scheduler: %w", err)
	}
	if err := w.relay.ScheduleRetention(ctx); err != nil {
		w.log.Warn("retention_enqueue_failed", "error", err.Error())
	}
	return nil
}

// stopRetention stops the scheduler (a run in progress is a task like any
// other: the server drains it).
func (w *Worker) stopRetention() {
	if w.sched != nil {
		w.sched.Shutdown()
	}
}

// handleRetention adapts a maintenance:retention task to relay.RunRetention.
func (w *Worker) handleRetention(ctx context.Context, _ *asynq.Task) error {
	_, err := w.relay.RunRetention(ctx, w.opt.Retention.Policy)
	return err
}
