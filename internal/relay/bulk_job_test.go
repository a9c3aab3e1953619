package relay_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestBulkJobRedeliversExactlyTheMatch(t *testing.T) {
	r, log, w := newBulkWorld(t)
	ctx := context.Background()
	want := seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusFailed, 5)
	otherEP := seedDeliveries(t, w.st, w.team, w.src[1], w.ep[1], "a", store.StatusFailed, 2)
	ok := seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusSucceeded, 1)
	otherTeam := seedDeliveries(t, w.st, "team_b", "src_b", w.otherEP, "a", store.StatusFailed, 1)

	a := relay.Actor{TeamID: w.team, Kind: "user", ID: "ann@example.com", IP: "192.0.2.1"}
	j, err := r.StartBulkThrottled(ctx, a, store.BulkFilter{EndpointID: w.ep[0]}, relay.BulkThrottle{Batch: 2})
	testenv.Must(t, err)
	if j.Total != 5 || j.Status != store.BulkRunning || j.CreatedBy != "user:ann@example.com" {
		t.Fatalf("job %+v", j)
	}
	// A delivery that fails after the start is not the job's.
	time.Sleep(2 * time.Millisecond)
	late := seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusFailed, 1)

	if steps := runSteps(t, r, log); steps != 3 {
		t.Errorf("ran %d steps for 5 deliveries in batches of 2, want 3", steps)
	}
	if got := manualIDs(t, log); !slices.Equal(got, want) {
		t.Fatalf("manual attempts for %v, want %v", got, want)
	}
	for _, id := range want {
		if s := statusOf(t, w.st, w.team, id); s != store.StatusPending {
			t.Errorf("%s is %s, want pending", id, s)
		}
	}
	for _, id := range append(append(otherEP, late...), otherTeam[0]) {
		team := w.team
		if id == otherTeam[0] {
			team = "team_b"
		}
		if s := statusOf(t, w.st, team, id); s != store.StatusFailed {
			t.Errorf("%s is %s, want failed (not in the job)", id, s)
		}
	}
	if s := statusOf(t, w.st, w.team, ok[0]); s != store.StatusSucceeded {
		t.Errorf("succeeded delivery is now %s", s)
	}
	j, err = w.st.GetBulkJob(ctx, w.team, j.ID)
	testenv.Must(t, err)
	if j.Status != store.BulkFinished || j.Done != 5 || j.FinishedAt == nil {
		t.Fatalf("job after the run: %+v", j)
	}
	// One audit row for the whole job, none per delivery.
	rows, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].Action != "bulk.redeliver" || rows[0].TargetID != j.ID ||
		rows[0].IP != "192.0.2.1" || rows[0].Details["total"] != float64(5) {
		t.Fatalf("audit %+v", rows)
	}
	// A finished job's step is a no-op.
	testenv.Must(t, r.BulkStep(ctx, task.BulkRedeliver{JobID: j.ID}))
	if n := len(log.take(task.TypeDeliver)) + len(log.take(task.TypeBulkRedeliver)); n != 0 {
		t.Fatalf("finished job enqueued %d tasks", n)
	}
}

func TestBulkJobCancel(t *testing.T) {
	r, log, w := newBulkWorld(t)
	ctx := context.Background()
	ids := seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusFailed, 4)
	a := relay.SystemActor(w.team)
	j, err := r.StartBulkThrottled(ctx, a, store.BulkFilter{}, relay.BulkThrottle{Batch: 1})
	testenv.Must(t, err)

	first := log.take(task.TypeBulkRedeliver)
	if len(first) != 1 {
		t.Fatalf("start enqueued %d steps", len(first))
	}
	p, _ := task.ParseBulkRedeliver(first[0])
	testenv.Must(t, r.BulkStep(ctx, p))

	if _, err := r.CancelBulk(ctx, relay.SystemActor("team_b"), j.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team cancels: %v", err)
	}
	c, err := r.CancelBulk(ctx, a, j.ID)
	testenv.Must(t, err)
	if c.Status != store.BulkCancelled {
		t.Fatalf("cancelled job %+v", c)
	}
	var ve *relay.ValidationError
	if _, err := r.CancelBulk(ctx, a, j.ID); !errors.As(err, &ve) {
		t.Fatalf("second cancel: %v", err)
	}
	runSteps(t, r, log) // the step queued before the cancel finds it cancelled
	if got := manualIDs(t, log); !slices.Equal(got, ids[:1]) {
		t.Fatalf("redelivered %v, want only %v", got, ids[:1])
	}
	for _, id := range ids[1:] {
		if s := statusOf(t, w.st, w.team, id); s != store.StatusFailed {
			t.Errorf("%s is %s after cancel, want failed", id, s)
		}
	}
	j, err = w.st.GetBulkJob(ctx, w.team, j.ID)
	testenv.Must(t, err)
	if j.Status != store.BulkCancelled || j.Done != 1 {
		t.Fatalf("job %+v", j)
	}
	rows, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team, Action: "bulk.cancel"})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].TargetID != j.ID {
		t.Fatalf("cancel audit %+v", rows)
	}
}

func TestBulkStaleStepAndResume(t *testing.T) {
	r, log, w := newBulkWorld(t)
	ctx := context.Background()
	ids := seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusFailed, 3)
	j, err := r.StartBulkThrottled(ctx, relay.SystemActor(w.team), store.BulkFilter{}, relay.BulkThrottle{Batch: 1})
	testenv.Must(t, err)
	start := log.take(task.TypeBulkRedeliver)
	p, _ := task.ParseBulkRedeliver(start[0])
	testenv.Must(t, r.BulkStep(ctx, p))
	next := log.take(task.TypeBulkRedeliver)
	if len(next) != 1 {
		t.Fatalf("step enqueued %d next steps", len(next))
	}
	// The first step again (an asynq retry, say) is stale: it redelivers
	// nothing and re-enqueues the current step, which the task id dedupes.
	testenv.Must(t, r.BulkStep(ctx, p))
	again := log.take(task.TypeBulkRedeliver)
	if len(again) != 1 || string(again[0].Payload()) != string(next[0].Payload()) {
		t.Fatalf("stale step enqueued %v, want the current step %s", again, next[0].Payload())
	}
	if got := manualIDs(t, log); !slices.Equal(got, ids[:1]) {
		t.Fatalf("redelivered %v, want %v", got, ids[:1])
	}
	// A worker starting after Redis lost the step enqueues it again.
	n, err := r.ResumeBulk(ctx)
	testenv.Must(t, err)
	resumed := log.take(task.TypeBulkRedeliver)
	if n != 1 || len(resumed) != 1 || string(resumed[0].Payload()) != string(next[0].Payload()) {
		t.Fatalf("resume: %d jobs, tasks %v", n, resumed)
	}
	log.tasks = append(log.tasks, resumed...)
	runSteps(t, r, log)
	if got := manualIDs(t, log); !slices.Equal(got, ids[1:]) {
		t.Fatalf("redelivered %v after resume, want %v", got, ids[1:])
	}
	if j, _ = w.st.GetBulkJob(ctx, w.team, j.ID); j.Status != store.BulkFinished || j.Done != 3 {
		t.Fatalf("job %+v", j)
	}
}
