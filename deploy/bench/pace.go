package main

import (
	"context"
	"time"
)

// pacer drives an open loop: event i is due at start + i/rate, whether or
// not earlier requests have been answered. It never starts an event before
// its time; when it wakes late (a busy machine, a coarse timer) it starts
// every event already due at once, each with its own scheduled time, so
// the caller measures latency from when the event should have been sent
// and a stall shows up as latency instead of as a slower sender.
type pacer struct {
	Rate      float64       // events per second, > 0
	N         int64         // events to schedule
	LateAfter time.Duration // a start later than this after its time counts as late

	Now   func() time.Time                                 // the clock (time.Now)
	Sleep func(ctx context.Context, d time.Duration) error // sleepCtx, or a fake in tests
}

// paceStats is what a pacer run did.
type paceStats struct {
	Start, End time.Time // schedule origin; when the last due event was handled (≥ the schedule's end)
	Scheduled  int64     // events whose time came (all N unless ctx ended)
	Started    int64     // handed to start
	Dropped    int64     // start refused them (the in-flight cap was reached)
	Late       int64     // started more than LateAfter after their time
}

// at is event i's scheduled time.
func (p pacer) at(start time.Time, i int64) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / p.Rate))
}

// run schedules the N events and calls start(i, at) for each when it is
// due. start must not block: it returns false when the send cannot begin
// now (counted as dropped, never retried, so the schedule holds).
func (p pacer) run(ctx context.Context, start func(i int64, at time.Time) bool) paceStats {
	st := paceStats{Start: p.Now()}
	for i := int64(0); i < p.N && ctx.Err() == nil; {
		if d := p.at(st.Start, i).Sub(p.Now()); d > 0 {
			if p.Sleep(ctx, d) != nil {
				break
			}
		}
		now := p.Now()
		for ; i < p.N && ctx.Err() == nil; i++ { // a late wake may find thousands due
			at := p.at(st.Start, i)
			if at.After(now) {
				break
			}
			st.Scheduled++
			if !start(i, at) {
				st.Dropped++
				continue
			}
			st.Started++
			if now.Sub(at) > p.LateAfter {
				st.Late++
			}
		}
	}
	st.End = p.at(st.Start, st.Scheduled)
	if now := p.Now(); now.After(st.End) {
		st.End = now
	}
	return st
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
