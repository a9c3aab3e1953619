package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
)

// AcquireN grants a group at most what the endpoint's limits leave: the
// in-flight cap and the rate limit bound the group as they bound single
// attempts, the rest wait, and Release frees every slot granted.
func TestGateAcquireNGrantsWithinLimits(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t)
	capped := delivery.Limits{EndpointID: "ep_n1", MaxInFlight: 3, Lease: time.Minute}
	one, _ := g.Acquire(ctx, capped)
	v, err := g.AcquireN(ctx, capped, 5)
	if err != nil || v.Granted != 2 || v.Wait <= 0 || v.Reason == "" {
		t.Fatalf("cap 3, one held, ask 5: %+v %v", v, err)
	}
	if w, _ := g.AcquireN(ctx, capped, 1); w.Granted != 0 || w.Wait <= 0 {
		t.Fatalf("cap full: %+v", w)
	}
	v.Release()
	one.Release()
	if w, _ := g.AcquireN(ctx, capped, 3); w.Granted != 3 || w.Wait != 0 {
		t.Fatalf("after Release: %+v", w)
	}

	rate := delivery.Limits{EndpointID: "ep_n2", RatePerSecond: 4, Lease: time.Minute}
	r, err := g.AcquireN(ctx, rate, 10)
	if err != nil || r.Granted != 4 || r.Wait <= 0 {
		t.Fatalf("rate 4/s, ask 10: %+v %v", r, err)
	}
	if w, _ := g.AcquireN(ctx, rate, 2); w.Granted != 0 {
		t.Fatalf("rate used up: %+v", w)
	}

	free := delivery.Limits{EndpointID: "ep_n3", Lease: time.Minute}
	if w, _ := g.AcquireN(ctx, free, 64); w.Granted != 64 || w.Wait != 0 || !w.Clean {
		t.Fatalf("no limits: %+v", w)
	}
}

// A half-open circuit lets one attempt of a group through as the probe.
func TestGateAcquireNHalfOpenLetsOneProbe(t *testing.T) {
	ctx := context.Background()
	g, c := newGate(t)
	l := delivery.Limits{EndpointID: "ep_n4", Lease: time.Minute}
	for range 3 {
		if _, err := g.Report(ctx, l.EndpointID, delivery.Outcome{Status: 500}, false); err != nil {
			t.Fatal(err)
		}
	}
	c.add(2 * time.Minute)
	v, err := g.AcquireN(ctx, l, 8)
	if err != nil || v.Granted != 1 || !v.Probe || v.Wait <= 0 || v.Clean {
		t.Fatalf("half-open, ask 8: %+v %v", v, err)
	}
}
