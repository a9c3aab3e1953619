package delivery_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newGate(t *testing.T) (*delivery.Gate, *clock) {
	opt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	c := &clock{t: time.Now()}
	return delivery.NewGate(rdb, delivery.GateOptions{BreakerThreshold: 3, BreakerMinDeliveries: 3, BreakerCooldown: time.Minute, Now: c.now}), c
}

// newDefaultGate is a gate with the default breaker settings (at least 5
// failed attempts and 10 deliveries in 60 s, half of them failing).
func newDefaultGate(t *testing.T) (*delivery.Gate, *clock) {
	opt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	c := &clock{t: time.Now()}
	return delivery.NewGate(rdb, delivery.GateOptions{Now: c.now}), c
}

// A few payloads that fail on their own, retried again and again among
// good deliveries and then alone, never open the circuit: the breaker
// weighs failing deliveries against the endpoint's others.
func TestGateFewBadPayloadsKeepCircuitClosed(t *testing.T) {
	ctx := context.Background()
	g, c := newDefaultGate(t)
	const ep = "ep_rate1"
	report := func(id string, ok bool) {
		t.Helper()
		o := delivery.Outcome{DeliveryID: id, Success: ok, Status: 200}
		if !ok {
			o.Status = 500
		}
		st, err := g.Report(ctx, ep, o, false)
		testenv.Must(t, err)
		if st != delivery.BreakerClosed {
			t.Fatalf("circuit opened at %s (ok=%v)", id, ok)
		}
	}
	// 30 events, every sixth one a bad payload: 5 failing of 30.
	for i := range 30 {
		id := fmt.Sprintf("dlv_%02d", i)
		report(id, i%6 != 0)
		c.add(100 * time.Millisecond)
	}
	// The good ones are delivered; the bad ones keep failing, alone.
	for range 4 {
		for i := 0; i < 30; i += 6 {
			report(fmt.Sprintf("dlv_%02d", i), false)
		}
		c.add(5 * time.Second)
	}
	if st, _, err := g.State(ctx, ep); err != nil || st != delivery.BreakerClosed {
		t.Fatalf("state %s (%v), want closed", st, err)
	}
	if v, err := g.Acquire(ctx, delivery.Limits{EndpointID: ep}); err != nil || v.Wait != 0 {
		t.Fatalf("a good delivery waits: %+v %v", v, err)
	}
}

// An endpoint failing every delivery opens its circuit once enough of
// them failed within the window; failures that left the window count no
// more.
func TestGateSustainedFailureOpens(t *testing.T) {
	ctx := context.Background()
	g, c := newDefaultGate(t)
	const ep = "ep_rate2"
	// Nine deliveries failed two minutes ago: outside the window.
	for i := range 9 {
		st, err := g.Report(ctx, ep, delivery.Outcome{DeliveryID: fmt.Sprintf("old_%d", i), Status: 500}, false)
		testenv.Must(t, err)
		if st != delivery.BreakerClosed {
			t.Fatalf("opened after %d deliveries", i+1)
		}
	}
	c.add(2 * time.Minute)
	for i := range 10 {
		st, err := g.Report(ctx, ep, delivery.Outcome{DeliveryID: fmt.Sprintf("dlv_%d", i), Status: 500}, false)
		testenv.Must(t, err)
		if want := map[bool]delivery.BreakerState{true: delivery.BreakerOpen, false: delivery.BreakerClosed}[i == 9]; st != want {
			t.Fatalf("after %d failing deliveries: %s, want %s", i+1, st, want)
		}
		c.add(time.Second)
	}
	v, err := g.Acquire(ctx, delivery.Limits{EndpointID: ep})
	if err != nil || v.Wait <= 0 || !strings.Contains(v.Reason, "10 of 10 deliveries failing") {
		t.Fatalf("open circuit: %+v %v", v, err)
	}
}

func TestGateBreakerOpensProbesAndCloses(t *testing.T) {
	ctx := context.Background()
	g, c := newGate(t)
	l := delivery.Limits{EndpointID: "ep_1", Lease: time.Minute}
	for i := 0; i < 3; i++ {
		v, err := g.Acquire(ctx, l)
		if err != nil || v.Wait != 0 {
			t.Fatalf("attempt %d refused: %+v %v", i, v, err)
		}
		st, err := g.Report(ctx, "ep_1", delivery.Outcome{Status: 500}, v.Probe)
		testenv.Must(t, err)
		if want := map[bool]delivery.BreakerState{true: delivery.BreakerOpen, false: delivery.BreakerClosed}[i == 2]; st != want {
			t.Fatalf("after failure %d: %s, want %s", i+1, st, want)
		}
	}
	v, _ := g.Acquire(ctx, l)
	if v.Wait <= 0 || v.Wait > time.Minute {
		t.Fatalf("open circuit let an attempt through: %+v", v)
	}
	c.add(61 * time.Second)
	probe, _ := g.Acquire(ctx, l)
	if probe.Wait != 0 || !probe.Probe {
		t.Fatalf("no probe after the cool-down: %+v", probe)
	}
	if other, _ := g.Acquire(ctx, l); other.Wait == 0 {
		t.Fatal("a second attempt went through while the probe was in flight")
	}
	// The probe fails: open again, for twice as long.
	_, _ = g.Report(ctx, "ep_1", delivery.Outcome{Status: 500}, true)
	if v, _ := g.Acquire(ctx, l); v.Wait <= time.Minute {
		t.Fatalf("second cool-down %v, want about 2 min", v.Wait)
	}
	c.add(3 * time.Minute)
	probe, _ = g.Acquire(ctx, l)
	st, _ := g.Report(ctx, "ep_1", delivery.Outcome{Success: true, Status: 200}, probe.Probe)
	if st != delivery.BreakerClosed {
		t.Fatalf("after a good probe: %s", st)
	}
	if v, _ := g.Acquire(ctx, l); v.Wait != 0 || v.Probe {
		t.Fatalf("closed circuit: %+v", v)
	}
}

func TestGateRetryAfterHolds(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t)
	l := delivery.Limits{EndpointID: "ep_2", Lease: time.Minute}
	v, _ := g.Acquire(ctx, l)
	st, _ := g.Report(ctx, "ep_2", delivery.Outcome{Status: 429, RetryAfter: 20 * time.Second}, v.Probe)
	if st != delivery.BreakerOpen {
		t.Fatalf("429 with Retry-After: %s", st)
	}
	if v, _ := g.Acquire(ctx, l); v.Wait < 19*time.Second || v.Wait > 20*time.Second || v.Reason == "" {
		t.Fatalf("held for %v (%s), want 20s", v.Wait, v.Reason)
	}
}

func TestGateRateLimitAndInFlightCap(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t)
	rate := delivery.Limits{EndpointID: "ep_3", RatePerSecond: 5, Lease: time.Minute}
	allowed := 0
	for i := 0; i < 20; i++ {
		if v, err := g.Acquire(ctx, rate); err == nil && v.Wait == 0 {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("rate 5/s let %d of 20 through", allowed)
	}
	capped := delivery.Limits{EndpointID: "ep_4", MaxInFlight: 2, Lease: time.Minute}
	a, _ := g.Acquire(ctx, capped)
	b, _ := g.Acquire(ctx, capped)
	c, _ := g.Acquire(ctx, capped)
	if a.Wait != 0 || b.Wait != 0 || c.Wait == 0 {
		t.Fatalf("cap 2: waits %v %v %v", a.Wait, b.Wait, c.Wait)
	}
	a.Release()
	if d, _ := g.Acquire(ctx, capped); d.Wait != 0 {
		t.Fatalf("slot not freed by Release: %+v", d)
	}
}
