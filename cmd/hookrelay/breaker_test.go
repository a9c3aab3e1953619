package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The gate a process builds follows HOOKRELAY_BREAKER_*: every value
// below differs from its default in a way the sequence of real
// deliveries shows. 3 failed attempts over 3+ deliveries open the circuit
// (defaults: 5 and 10), but only once 80 % of them fail (default 50 %
// would open it a delivery earlier); the hold names the 2 min window and
// lasts the 7 min cool-down, a failed probe's doubling stops at 9 min
// (default 10); a new delivery is then held, not sent.
func TestDepsGateFollowsBreakerConfig(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	ctx := context.Background()
	cfg, err := config.Load(testGetenv(t, dsn, map[string]string{"HOOKRELAY_RETRY_SCHEDULE": "1h",
		"HOOKRELAY_BREAKER_THRESHOLD": "3", "HOOKRELAY_BREAKER_MIN_DELIVERIES": "3", "HOOKRELAY_BREAKER_FAILURE_RATIO": "0.8",
		"HOOKRELAY_BREAKER_WINDOW": "2m", "HOOKRELAY_BREAKER_COOLDOWN": "7m", "HOOKRELAY_BREAKER_MAX_COOLDOWN": "9m"}))
	testenv.Must(t, err)
	d, err := openDeps(ctx, cfg, true)
	testenv.Must(t, err)
	t.Cleanup(d.close)

	var status atomic.Int32
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	b, err := d.relay.Bootstrap(ctx)
	testenv.Must(t, err)
	a := relay.SystemActor(b.TeamID)
	name, kind, sec := "s", "stripe", "whsec_breaker_test_secret_0123456789"
	src, err := d.relay.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(t, err)
	url, ids := srv.URL, []string{src.ID}
	ep, _, err := d.relay.CreateEndpoint(ctx, a, relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(t, err)
	n := 0
	// deliver sends one new event's delivery once, the endpoint answering code.
	deliver := func(code int) string {
		t.Helper()
		n++
		status.Store(int32(code))
		out, err := d.relay.Ingest(ctx, []relay.Inbound{{Source: src, Result: provider.Result{EventID: fmt.Sprint("evt_breaker_", n),
			EventType: "invoice.paid", Verified: true}, Body: []byte(`{}`), ContentType: "application/json", ReceivedAt: time.Now().UTC()}})
		testenv.Must(t, err)
		if len(out) != 1 || len(out[0].Deliveries) != 1 {
			t.Fatalf("ingested %+v, want one delivery to %s", out, ep.ID)
		}
		id := out[0].Deliveries[0]
		testenv.Must(t, d.relay.Deliver(ctx, task.Deliver{DeliveryID: id, EndpointID: ep.ID, Attempt: 1}))
		return id
	}
	state := func(want delivery.BreakerState, after string) time.Time {
		t.Helper()
		s, until, err := d.gate.State(ctx, ep.ID)
		testenv.Must(t, err)
		if s != want {
			t.Fatalf("after %s the circuit is %s, want %s", after, s, want)
		}
		return until
	}

	deliver(500)
	deliver(200) // counted: the endpoint has a failure in its window
	deliver(500)
	deliver(500)
	state(delivery.BreakerClosed, "3 of 4 deliveries failing (75 % < 80 %)")
	before := time.Now()
	deliver(500)
	after := time.Now()
	until := state(delivery.BreakerOpen, "4 of 5 deliveries failing")
	if until.Before(before.Add(7*time.Minute-time.Second)) || until.After(after.Add(7*time.Minute+time.Second)) {
		t.Fatalf("open until %s, want 7 min after the 5th attempt (%s)", until, before)
	}
	if hits.Load() != 5 {
		t.Fatalf("endpoint got %d requests, want 5", hits.Load())
	}

	held := deliver(200)
	dl, err := store.New(d.db).GetDelivery(ctx, b.TeamID, held)
	testenv.Must(t, err)
	if want := "endpoint circuit open (4 of 5 deliveries failing in the last 2m0s)"; dl.Status != store.StatusPending ||
		dl.Attempts != 0 || dl.HeldReason != want || hits.Load() != 5 {
		t.Fatalf("a delivery while open: %s, %d attempts, held %q, %d requests; want pending, 0, %q, 5",
			dl.Status, dl.Attempts, dl.HeldReason, hits.Load(), want)
	}

	// A failed probe doubles the 7 min, to 14, capped at 9.
	before = time.Now()
	_, err = d.gate.Report(ctx, ep.ID, delivery.Outcome{DeliveryID: "probe", Status: 500}, true)
	testenv.Must(t, err)
	after = time.Now()
	until = state(delivery.BreakerOpen, "a failed probe")
	if until.Before(before.Add(9*time.Minute-time.Second)) || until.After(after.Add(9*time.Minute+time.Second)) {
		t.Fatalf("after a failed probe open until %s, want 9 min after it (%s)", until, before)
	}
}
