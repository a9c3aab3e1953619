// Package worker runs the asynq server that sends deliveries, and the
// sweeper loop that re-enqueues what Redis lost. It is a thin adapter over
// internal/relay.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/task"
)

// Options configure the worker.
type Options struct {
	// Concurrency is how many delivery tasks run at once (a task carries
	// one endpoint's deliveries and sends them concurrently, within the
	// endpoint's share).
	Concurrency int
	// EndpointShare is the most of these slots one endpoint may hold
	// (0: max(1, Concurrency/4)), so a slow endpoint holds at most that
	// many and other teams' deliveries go on. Each slot sends at most
	// relay.Wave requests at once.
	EndpointShare int
	// PollInterval is how often an idle server asks Redis for work.
	PollInterval time.Duration
	// DelayedCheckInterval is how often scheduled retries are moved to
	// the queue; it rounds up short retry delays.
	DelayedCheckInterval time.Duration
	// SweepInterval is the sweeper's period; 0 disables the sweeper.
	SweepInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight deliveries.
	ShutdownTimeout time.Duration
	// Retention schedules the retention maintenance (see retention.go).
	Retention RetentionOptions
	// Wake, when set, is the Redis client on whose relay.WakeChannel the
	// worker listens while idle, to send announced tasks at once instead
	// of at its next poll (wake.go).
	Wake *redis.Client
}

// Worker is the asynq server plus the sweeper.
type Worker struct {
	relay  *relay.Relay
	srv    *asynq.Server
	sched  *asynq.Scheduler // retention maintenance; nil when not scheduled here
	log    *slog.Logger
	opt    Options
	slots  *relay.Slots
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// active counts delivery tasks asynq is running here (wake.go).
	active atomic.Int64
	woken  wakeRuns
}

// New builds a worker over Redis.
func New(r *relay.Relay, redis asynq.RedisConnOpt, log *slog.Logger, opt Options) *Worker {
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency:              max(opt.Concurrency, 1),
		Queues:                   map[string]int{task.QueueDeliveries: 1},
		TaskCheckInterval:        opt.PollInterval,
		DelayedTaskCheckInterval: max(opt.DelayedCheckInterval, 100*time.Millisecond),
		ShutdownTimeout:          opt.ShutdownTimeout,
		Logger:                   slogAdapter{log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
		RetryDelayFunc:           infraRetryDelay,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			// A delivery task's id is its delivery id (and attempt).
			id, _ := asynq.GetTaskID(ctx)
			log.Error("task_failed", "type", t.Type(), "task_id", id, "error", err.Error())
		}),
	})
	share := opt.EndpointShare
	if share <= 0 {
		share = max(1, opt.Concurrency/4)
	}
	return &Worker{relay: r, srv: srv, log: log, opt: opt, slots: relay.NewSlots(share),
		sched: newRetentionScheduler(redis, log, opt.Retention)}
}

// Start begins processing tasks and sweeping.
func (w *Worker) Start() error {
	mux := asynq.NewServeMux()
	mux.HandleFunc(task.TypeDeliver, w.handleDeliver)
	mux.HandleFunc(task.TypeBulkRedeliver, w.handleBulkRedeliver)
	mux.HandleFunc(task.TypeRetention, w.handleRetention)
	mux.HandleFunc(task.TypeBackfill, w.handleBackfill)
	if err := w.srv.Start(mux); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.resumeBulk(ctx)
	if err := w.startRetention(ctx); err != nil {
		return err
	}
	if w.opt.Wake != nil {
		w.startWake(ctx)
	}
	if w.opt.SweepInterval > 0 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.sweepLoop(ctx)
		}()
	}
	w.log.Info("worker_started", "concurrency", w.opt.Concurrency, "endpoint_share", w.slots.Share())
	return nil
}

// Shutdown stops the sweeper and the retention scheduler, then stops
// fetching tasks and waits (up to ShutdownTimeout) for in-flight
// deliveries; a delivery cut off is re-queued by asynq and, failing that,
// by the sweeper.
func (w *Worker) Shutdown() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	w.woken.stop(w.opt.ShutdownTimeout)
	w.stopRetention()
	w.srv.Shutdown()
	w.log.Info("worker_stopped")
}

// infraRetryDelay spaces asynq's own retries, which happen only when a
// handler could not reach Postgres: 1 s doubling to 15 s, plus up to 50 %
// jitter. asynq's default (15 s to minutes) turned a 3-second database
// outage into a minute of delay.
func infraRetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 4)
	return min(d, 15*time.Second) + time.Duration(rand.Int64N(int64(d/2)+1))
}

// handleDeliver adapts a delivery:send task to relay.DeliverShared,
// within this worker's per-endpoint share.
func (w *Worker) handleDeliver(ctx context.Context, t *asynq.Task) error {
	p, err := task.ParseDeliver(t)
	if err != nil {
		return err
	}
	w.active.Add(1)
	defer w.active.Add(-1)
	return w.relay.DeliverShared(ctx, p, w.slots)
}

// sweepLoop runs the sweeper on a ticker until ctx ends.
func (w *Worker) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(w.opt.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := w.relay.Sweep(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("sweep_failed", "error", err.Error())
			}
			// Bulk jobs whose next step Redis lost carry on; a queued step
			// absorbs the duplicate by task id.
			if _, err := w.relay.ResumeBulk(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("bulk_resume_failed", "error", err.Error())
			}
		}
	}
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
