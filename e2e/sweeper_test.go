package e2e_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The enqueue after the commit fails (Redis refusing writes): the event
// was acknowledged, so the sweeper must deliver it from Postgres.
func TestSweeperDeliversWhenEnqueueFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{enqueuer: failingEnqueuer{}})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	status, resp := e.postStripe(src, stripeEvent("evt_sweep1", "invoice.paid"), stripeSecret, time.Now())
	if status != 200 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	if s.received() != 1 {
		t.Fatalf("endpoint received %d, want 1", s.received())
	}
}

// Redis loses everything (FLUSHDB, as a restart without persistence)
// between the commit and the worker: the sweeper rebuilds the queue.
func TestSweeperDeliversAfterRedisFlush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_sweep2", "invoice.paid"), stripeSecret, time.Now())
	deadline := time.Now().Add(5 * time.Second)
	for e.queued() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("first attempt never queued")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rc := redis.NewClient(&redis.Options{Addr: e.redis.Addr, DB: e.redis.DB})
	testenv.Must(t, rc.FlushDB(context.Background()).Err())
	_ = rc.Close()
	if e.queued() != 0 {
		t.Fatal("flush left tasks behind")
	}
	e.startWorker(50 * time.Millisecond)
	e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
}

// Sweep alone: an overdue pending delivery is re-enqueued exactly once
// (a second sweep conflicts on the task id), and a settled one is not.
func TestSweepIsIdempotent(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	e := newEnv(t, envOptions{noWorker: true, enqueuer: failingEnqueuer{}, now: clock.Now})
	src := e.stripeSource()
	e.endpoint("http://127.0.0.1:9/x", src)
	e.postStripe(src, stripeEvent("evt_sweep3", "invoice.paid"), stripeSecret, time.Now())
	clock.Add(time.Second) // past the sweep grace
	n, err := e.relay.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("first sweep: %d, %v", n, err)
	}
	n, err = e.relay.Sweep(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v (want 0: already queued)", n, err)
	}
	if q := e.queued(); q != 1 {
		t.Fatalf("queued = %d, want 1", q)
	}
}
