package relay_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
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

// badPayloads is an endpoint that refuses the deliveries named in bad
// (500) and takes every other one; it records what it received, in order.
type badPayloads struct {
	mu   sync.Mutex
	bad  map[string]bool
	seen []string
}

func (b *badPayloads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := r.Header.Get("X-Hookrelay-Delivery")
	b.seen = append(b.seen, id)
	if b.bad[id] {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

func (b *badPayloads) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.seen)
}

func probeGate(t *testing.T, clock *fakeClock, o delivery.GateOptions) *delivery.Gate {
	ro := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: ro.Addr, DB: ro.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	o.Now = clock.Now
	return delivery.NewGate(rdb, o)
}

// runAll runs every delivery task enqueued so far (in order).
func (w *deliverWorld) runAll(t *testing.T) int {
	t.Helper()
	ts := w.tasks.take(task.TypeDeliver)
	for _, tk := range ts {
		p, err := task.ParseDeliver(tk)
		testenv.Must(t, err)
		testenv.Must(t, w.r.Deliver(context.Background(), p))
	}
	return len(ts)
}

// Five bad payloads among thirty events, retried again and again, do not
// open the endpoint's circuit: the good events are delivered at once, and
// so is a new one after the bad ones failed five times each.
func TestFewBadPayloadsDoNotStallEndpoint(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	gate := probeGate(t, clock, delivery.GateOptions{}) // default breaker
	sink := &badPayloads{bad: map[string]bool{}}
	sched := delivery.Schedule{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second}
	w := newDeliverWorld(t, sink, gate, clock, relay.Options{RetrySchedule: sched})
	ctx := context.Background()
	var ids []string
	for i := range 30 {
		id := w.event(t)
		ids = append(ids, id)
		if i%6 == 0 {
			sink.bad[id] = true
		}
	}
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: ids[0], More: ids[1:], EndpointID: w.ep, Attempt: 1}))
	for range 5 {
		clock.Add(time.Second)
		w.runAll(t)
	}
	for _, id := range ids {
		d := w.delivery(t, id)
		switch {
		case sink.bad[id] && (d.Status != store.StatusPending || d.Attempts != 6):
			t.Fatalf("bad payload %s: %s after %d attempts, want pending after 6", id, d.Status, d.Attempts)
		case !sink.bad[id] && (d.Status != store.StatusSucceeded || d.Attempts != 1):
			t.Fatalf("good event %s: %s after %d attempts (%s)", id, d.Status, d.Attempts, d.HeldReason)
		}
	}
	if st, _, err := gate.State(ctx, w.ep); err != nil || st != delivery.BreakerClosed {
		t.Fatalf("circuit %s (%v), want closed", st, err)
	}
	fresh := w.event(t)
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: fresh, EndpointID: w.ep, Attempt: 1}))
	if d := w.delivery(t, fresh); d.Status != store.StatusSucceeded {
		t.Fatalf("a new event after the bad ones: %s, held %q", d.Status, d.HeldReason)
	}
}

// When the circuit is open a delivery is held with the reason on its
// row; once it is half-open, the probe is the oldest delivery that never
// failed, not the failing one whose retry came first.
func TestHalfOpenProbeGoesWithNeverFailedDelivery(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	gate := probeGate(t, clock, delivery.GateOptions{BreakerThreshold: 1, BreakerMinDeliveries: 1, BreakerCooldown: time.Minute})
	sink := &badPayloads{bad: map[string]bool{}}
	w := newDeliverWorld(t, sink, gate, clock, relay.Options{RetrySchedule: delivery.Schedule{time.Second, time.Second}})
	ctx := context.Background()
	bad := w.event(t)
	sink.bad[bad] = true
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: bad, EndpointID: w.ep, Attempt: 1}))
	w.tasks.take(task.TypeDeliver) // its retry, run by hand below
	if st, _, _ := gate.State(ctx, w.ep); st != delivery.BreakerOpen {
		t.Fatalf("circuit %s after the failure, want open", st)
	}
	good := w.event(t)
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: good, EndpointID: w.ep, Attempt: 1}))
	w.tasks.take(task.TypeDeliver)
	if d := w.delivery(t, good); d.Attempts != 0 || !strings.HasPrefix(d.HeldReason, "endpoint circuit open (") {
		t.Fatalf("delivery held by the circuit: attempts %d, held %q", d.Attempts, d.HeldReason)
	}

	clock.Add(2 * time.Minute) // cool-down over: half-open
	// The failing delivery's retry comes first; it must not be the probe.
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: bad, EndpointID: w.ep, Attempt: 2}))
	if got := sink.received(); len(got) != 1 {
		t.Fatalf("requests %v: the failing delivery probed", got)
	}
	if d := w.delivery(t, bad); d.Attempts != 1 || !strings.Contains(d.HeldReason, "half-open") {
		t.Fatalf("failing delivery: attempts %d, held %q", d.Attempts, d.HeldReason)
	}
	// The never-failed one was handed a task due now: it probes, succeeds
	// and closes the circuit.
	ts := w.tasks.take(task.TypeDeliver)
	var probe *task.Deliver
	for _, tk := range ts {
		p, err := task.ParseDeliver(tk)
		testenv.Must(t, err)
		if p.DeliveryID == good {
			probe = &p
		}
	}
	if probe == nil {
		t.Fatalf("no task for the never-failed delivery among %d", len(ts))
	}
	testenv.Must(t, w.r.Deliver(ctx, *probe))
	if got := sink.received(); len(got) != 2 || got[1] != good {
		t.Fatalf("requests %v, want the never-failed delivery as the probe", got)
	}
	if d := w.delivery(t, good); d.Status != store.StatusSucceeded || d.HeldReason != "" {
		t.Fatalf("probe delivery: %s, held %q", d.Status, d.HeldReason)
	}
	if st, _, _ := gate.State(ctx, w.ep); st != delivery.BreakerClosed {
		t.Fatalf("circuit %s after a good probe, want closed", st)
	}
}

// In a group holding a failing delivery's retry and a never-failed one,
// the half-open circuit's one probe is the never-failed one.
func TestHalfOpenProbePrefersNeverFailedInGroup(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	gate := probeGate(t, clock, delivery.GateOptions{BreakerThreshold: 1, BreakerMinDeliveries: 1, BreakerCooldown: time.Minute})
	sink := &badPayloads{bad: map[string]bool{}}
	w := newDeliverWorld(t, sink, gate, clock, relay.Options{RetrySchedule: delivery.Schedule{time.Second, time.Second}})
	ctx := context.Background()
	bad := w.event(t)
	sink.bad[bad] = true
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: bad, EndpointID: w.ep, Attempt: 1}))
	good := w.event(t)
	clock.Add(2 * time.Minute) // half-open
	// One task claims both (the failing one first): attempt 2 of bad,
	// attempt 1 of good.
	testenv.Must(t, w.r.Deliver(ctx, task.Deliver{DeliveryID: bad, More: []string{good}, EndpointID: w.ep, Attempt: 1}))
	if got := sink.received(); len(got) != 2 || got[1] != good {
		t.Fatalf("requests %v, want the never-failed delivery as the probe", got)
	}
	if d := w.delivery(t, bad); d.Attempts != 1 || d.Status != store.StatusPending {
		t.Fatalf("failing delivery: %s after %d attempts, want held after 1", d.Status, d.Attempts)
	}
	if st, _, _ := gate.State(ctx, w.ep); st != delivery.BreakerClosed {
		t.Fatalf("circuit %s after a good probe, want closed", st)
	}
}
