package relay_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A paused endpoint still gets its deliveries at ingest, and the worker
// holds them (no request, no attempt used) while another endpoint's are
// sent; resume releases them and they are delivered.
func TestPauseHoldsDeliveriesAndResumeSendsThem(t *testing.T) {
	w := newIngestWorld(t)
	ctx := context.Background()
	a := relay.Actor{TeamID: w.team, Kind: "token", ID: "tok_1"}
	paused := w.endpoint(t, "/paused", nil, w.src[0].ID)
	other := w.endpoint(t, "/other", nil, w.src[0].ID)

	ep, err := w.r.PauseEndpoint(ctx, a, paused)
	testenv.Must(t, err)
	if ep.PausedAt == nil || !ep.Enabled {
		t.Fatalf("paused endpoint %+v", ep)
	}
	_, err = w.r.PauseEndpoint(ctx, a, paused) // again: no change, no row
	testenv.Must(t, err)
	evs := w.ingest(t, w.src[0], "a", "b")
	w.deliverQueuedAfterSweep(t)

	// The signal: the other endpoint's attempts are recorded.
	var otherAttempts, heldAttempts int
	countAttempts := func(ep string) int {
		var n int
		testenv.Must(t, w.st.DB().NewRaw(`SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
			WHERE d.endpoint_id = ?`, ep).Scan(ctx, &n))
		return n
	}
	if otherAttempts = countAttempts(other); otherAttempts != len(evs) {
		t.Fatalf("other endpoint: %d attempts, want %d", otherAttempts, len(evs))
	}
	if heldAttempts = countAttempts(paused); heldAttempts != 0 || w.rc.count("/paused") != 0 {
		t.Fatalf("paused endpoint: %d attempts, %d requests", heldAttempts, w.rc.count("/paused"))
	}
	var held []store.Delivery
	testenv.Must(t, w.st.DB().NewSelect().Model(&held).Where("endpoint_id = ?", paused).Scan(ctx))
	for _, d := range held {
		if d.Status != store.StatusPending || d.Attempts != 0 || d.NextAttemptAt == nil ||
			d.NextAttemptAt.Before(time.Now().Add(relay.PauseHold-time.Hour)) {
			t.Fatalf("held delivery %+v: want pending, 0 attempts, due about %v from now", d, relay.PauseHold)
		}
	}
	if len(held) != len(evs) {
		t.Fatalf("paused endpoint has %d deliveries, want %d (one per event)", len(held), len(evs))
	}
	// The sweeper leaves held deliveries alone.
	if n, err := w.r.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep re-queued %d, %v", n, err)
	}

	ep, n, err := w.r.ResumeEndpoint(ctx, a, paused)
	testenv.Must(t, err)
	if ep.PausedAt != nil || n != len(evs) {
		t.Fatalf("resume: %+v released %d, want %d", ep, n, len(evs))
	}
	w.deliverQueued(t)
	if got := w.rc.count("/paused"); got != len(evs) {
		t.Fatalf("after resume the endpoint received %d, want %d", got, len(evs))
	}
	for id, st := range w.deliveriesTo(t, paused) {
		if len(st) != 1 || st[0] != store.StatusSucceeded {
			t.Fatalf("event %s: %v", id, st)
		}
	}
	var attempts []int
	testenv.Must(t, w.st.DB().NewRaw(`SELECT a.n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.endpoint_id = ?`, paused).Scan(ctx, &attempts))
	for _, n := range attempts {
		if n != 1 {
			t.Fatalf("attempt numbers %v: the hold used some up", attempts)
		}
	}
	if _, n, err := w.r.ResumeEndpoint(ctx, a, paused); err != nil || n != 0 {
		t.Fatalf("second resume released %d, %v", n, err)
	}
	for action, want := range map[string]int{"endpoint.pause": 1, "endpoint.resume": 1} {
		rows, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team, Action: action})
		testenv.Must(t, err)
		if len(rows) != want || rows[0].TargetID != paused || rows[0].Actor != "token:tok_1" {
			t.Fatalf("%s audit %+v", action, rows)
		}
	}
}

// A burst of 410s disables the endpoint once: one endpoint.disable row.
// A user's disable is endpoint.disable too, and a repeat writes nothing.
func TestDisableIsAuditedOncePerChange(t *testing.T) {
	w := newIngestWorld(t)
	ctx := context.Background()
	ep := w.endpoint(t, "/gone", nil, w.src[0].ID)
	w.rc.gone, w.rc.wait, w.rc.all = true, make(chan struct{}), 3
	w.ingest(t, w.src[0], "a", "b", "c")
	// Each delivery its own task, run at once as three workers would: the
	// receiver answers 410 only when all three requests are in, so every
	// task sees the endpoint enabled and then gone.
	_, err := w.r.Sweep(ctx)
	testenv.Must(t, err)
	ts := w.log.take(task.TypeDeliver)
	if len(ts) != 3 {
		t.Fatalf("%d tasks", len(ts))
	}
	var wg sync.WaitGroup
	for _, tk := range ts {
		p, err := task.ParseDeliver(tk)
		testenv.Must(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.r.Deliver(ctx, p); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rows, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team, Action: "endpoint.disable"})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].Actor != "system:hookrelay" {
		t.Fatalf("disable audit rows %+v, want one", rows)
	}
	a := relay.Actor{TeamID: w.team, Kind: "user", ID: "ann@example.com"}
	_, err = w.r.SetEndpointEnabled(ctx, a, ep, true)
	testenv.Must(t, err)
	off := false
	_, err = w.r.UpdateEndpoint(ctx, a, ep, relay.EndpointInput{Enabled: &off})
	testenv.Must(t, err)
	_, err = w.r.SetEndpointEnabled(ctx, a, ep, false)
	testenv.Must(t, err)
	all, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team})
	testenv.Must(t, err)
	var got []string
	for _, r := range all {
		got = append(got, r.Action+" "+r.Actor)
	}
	want := []string{"endpoint.disable user:ann@example.com", "endpoint.enable user:ann@example.com", "endpoint.disable system:hookrelay"}
	if len(got) != len(want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit %v, want %v", got, want)
		}
	}
}
