package relay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// fakeClock is a settable clock shared by the relay and its gate.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// deliverWorld is one team, one source and one endpoint (signing "none")
// pointing at h, with a relay on a fake clock.
type deliverWorld struct {
	r     *relay.Relay
	st    *store.Store
	tasks *taskLog
	clock *fakeClock
	ep    string
	src   string
}

func newDeliverWorld(t *testing.T, h http.Handler, gate *delivery.Gate, clock *fakeClock, o relay.Options) *deliverWorld {
	t.Helper()
	db, _ := testenv.Postgres(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	guard := delivery.NewGuard(loopback)
	w := &deliverWorld{st: store.New(db), tasks: &taskLog{}, clock: clock}
	w.r = relay.New(relay.Deps{Store: w.st, Enqueuer: w.tasks, Guard: guard, Gate: gate, Now: clock.Now,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/test"})}, o)
	ctx := context.Background()
	testenv.Must(t, w.st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	w.src = bulkSource(t, w.st, "team_a")
	now := clock.Now()
	w.ep = store.NewID("ep")
	testenv.Must(t, w.st.CreateEndpoint(ctx, &store.Endpoint{ID: w.ep, TeamID: "team_a", URL: srv.URL,
		Enabled: true, SigningScheme: "none", SourceIDs: []string{w.src}, CreatedAt: now, UpdatedAt: now}))
	return w
}

// event stores one event with its delivery, due now, and returns the delivery id.
func (w *deliverWorld) event(t *testing.T) string {
	t.Helper()
	now := w.clock.Now()
	e := &store.Event{ID: store.NewID("evt"), TeamID: "team_a", SourceID: w.src, ReceivedAt: now,
		Body: []byte(`{"id":"evt_1"}`), Verified: true}
	_, err := w.st.InsertEvent(context.Background(), e)
	testenv.Must(t, err)
	d := store.Delivery{ID: store.NewID("dlv"), TeamID: "team_a", EventID: e.ID, EndpointID: w.ep,
		Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, w.st.InsertDeliveries(context.Background(), []store.Delivery{d}))
	return d.ID
}

// run takes the one delivery task the relay enqueued and runs it.
func (w *deliverWorld) run(t *testing.T) {
	t.Helper()
	ts := w.tasks.take(task.TypeDeliver)
	if len(ts) != 1 {
		t.Fatalf("%d delivery tasks enqueued, want 1", len(ts))
	}
	p, err := task.ParseDeliver(ts[0])
	testenv.Must(t, err)
	testenv.Must(t, w.r.Deliver(context.Background(), p))
}

func (w *deliverWorld) delivery(t *testing.T, id string) *store.Delivery {
	t.Helper()
	d, err := w.st.GetDelivery(context.Background(), "team_a", id)
	testenv.Must(t, err)
	return d
}

// A 503 with Retry-After pushes the next attempt back by at least that
// long even with no gate at all: the retry schedule itself honours it.
func TestRetryAfterSchedulesNextAttempt(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	w := newDeliverWorld(t, h, nil, clock, relay.Options{RetrySchedule: delivery.Schedule{time.Second, time.Second}})
	id := w.event(t)
	start := clock.Now()
	testenv.Must(t, w.r.Deliver(context.Background(), task.Deliver{DeliveryID: id, Attempt: 1}))
	d := w.delivery(t, id)
	if d.Status != store.StatusPending || d.NextAttemptAt == nil {
		t.Fatalf("after a 503: %+v", d)
	}
	if gap := d.NextAttemptAt.Sub(start); gap < 120*time.Second {
		t.Fatalf("next attempt %v after the 503, want ≥ Retry-After 120s", gap)
	}
	// The task for it is due then too, not at the schedule's 1 s.
	clock.Add(2 * time.Second)
	w.run(t)
	if atts, _ := w.st.AttemptsOf(context.Background(), id); len(atts) != 1 {
		t.Fatalf("a retry ran before Retry-After: %d attempts", len(atts))
	}
}

// Attempts the gate postpones use no attempt number: after several
// postponements the delivery still has its whole retry budget, and the
// first request sent is attempt 1.
func TestPostponedAttemptKeepsRetryBudget(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ro := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: ro.Addr, DB: ro.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	gate := delivery.NewGate(rdb, delivery.GateOptions{Now: clock.Now})
	var mu sync.Mutex
	var sent []string // X-Hookrelay-Attempt of every request received
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Get("X-Hookrelay-Attempt"))
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	})
	w := newDeliverWorld(t, h, gate, clock, relay.Options{RetrySchedule: delivery.Schedule{time.Minute}})
	ctx := context.Background()
	one := 1
	_, err := w.r.UpdateEndpoint(ctx, relay.Actor{TeamID: "team_a", Kind: "test", ID: t.Name()}, w.ep,
		relay.EndpointInput{MaxInFlight: &one})
	testenv.Must(t, err)
	// Someone else holds the endpoint's only slot.
	busy, err := gate.Acquire(ctx, delivery.Limits{EndpointID: w.ep, MaxInFlight: 1, Lease: time.Hour})
	if err != nil || busy.Wait > 0 {
		t.Fatalf("take the slot: %+v %v", busy, err)
	}
	id := w.event(t)
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: id, Attempt: 1}))
	for range 3 {
		d := w.delivery(t, id)
		if d.Attempts != 0 || d.Status != store.StatusPending || d.NextAttemptAt == nil || !d.NextAttemptAt.After(clock.Now()) {
			t.Fatalf("postponed delivery: attempts=%d status=%s next=%v (now %v)", d.Attempts, d.Status, d.NextAttemptAt, clock.Now())
		}
		clock.Add(d.NextAttemptAt.Sub(clock.Now()))
		w.run(t)
	}
	busy.Release()
	clock.Add(time.Hour)
	w.run(t) // attempt 1: fails, retry scheduled
	clock.Add(time.Hour)
	w.run(t) // attempt 2: fails, schedule exhausted
	atts, err := w.st.AttemptsOf(ctx, id)
	testenv.Must(t, err)
	if len(atts) != 2 || atts[0].N != 1 || atts[1].N != 2 {
		t.Fatalf("attempts %+v, want n=1 and n=2 after the postponements", atts)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 || sent[0] != "1" || sent[1] != "2" {
		t.Fatalf("endpoint saw attempts %v, want [1 2]", sent)
	}
	if d := w.delivery(t, id); d.Status != store.StatusFailed || d.Attempts != 2 {
		t.Fatalf("after the budget: %+v", d)
	}
}
