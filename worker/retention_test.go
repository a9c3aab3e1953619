package worker_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/worker"
)

// Two replicas starting together with a schedule run the maintenance at
// start (once: the task is unique) and it drops an expired partition.
func TestWorkerRunsRetentionAtStart(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	redis := testenv.Redis(t)
	ctx := context.Background()
	expired := time.Now().AddDate(0, 0, -45)
	_, _, err := st.CreatePartition(ctx, store.TableEvents, expired)
	testenv.Must(t, err)

	aq := asynq.NewClient(redis)
	t.Cleanup(func() { _ = aq.Close() })
	// The unique task collapses a second enqueue.
	r := relay.New(relay.Deps{Store: st, Enqueuer: aq}, relay.Options{})
	testenv.Must(t, r.ScheduleRetention(ctx))
	if _, err := aq.Enqueue(task.NewRetention()); err == nil {
		t.Fatal("a second maintenance task was enqueued while one is pending")
	}

	opt := worker.Options{Concurrency: 2, PollInterval: 10 * time.Millisecond, ShutdownTimeout: time.Second,
		Retention: worker.RetentionOptions{Interval: time.Hour, Policy: relay.RetentionPolicy{Retention: 30 * 24 * time.Hour}}}
	for range 2 {
		w := worker.New(r, redis, slog.New(slog.DiscardHandler), opt)
		testenv.Must(t, w.Start())
		t.Cleanup(w.Shutdown)
	}
	name := store.PartitionName(store.TableEvents, expired)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var gone bool
		testenv.Must(t, db.NewRaw("SELECT to_regclass(?) IS NULL", name).Scan(ctx, &gone))
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired partition %s still there", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
