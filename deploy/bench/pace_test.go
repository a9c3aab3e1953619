package main

import (
	"context"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when the pacer sleeps: each sleep
// advances it by the requested time plus oversleep, as a busy machine's
// timer would.
type fakeClock struct {
	now       time.Time
	oversleep time.Duration
	sleeps    int
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps++
	c.now = c.now.Add(d + c.oversleep)
	return ctx.Err()
}

type started struct {
	i      int64
	at, on time.Time // scheduled; the fake time it was started on
}

// runPacer runs a pacer on c and records every start; accept decides
// whether a start is taken (nil: all are).
func runPacer(t *testing.T, c *fakeClock, rate float64, n int64, accept func(i int64) bool) (paceStats, []started) {
	t.Helper()
	var got []started
	p := pacer{Rate: rate, N: n, LateAfter: 10 * time.Millisecond, Now: c.Now, Sleep: c.Sleep}
	st := p.run(context.Background(), func(i int64, at time.Time) bool {
		got = append(got, started{i, at, c.now})
		return accept == nil || accept(i)
	})
	return st, got
}

// TestPacerKeepsSchedule: with a punctual clock every event starts exactly
// at start + i/rate, in order, none late or dropped.
func TestPacerKeepsSchedule(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := &fakeClock{now: t0}
	st, got := runPacer(t, c, 1000, 50, nil)
	if st.Scheduled != 50 || st.Started != 50 || st.Dropped != 0 || st.Late != 0 {
		t.Fatalf("stats %+v, want 50 scheduled and started, none late or dropped", st)
	}
	for k, s := range got {
		want := t0.Add(time.Duration(k) * time.Millisecond)
		if s.i != int64(k) || !s.at.Equal(want) || !s.on.Equal(want) {
			t.Fatalf("start %d: event %d due %v started %v, want event %d due and started %v", k, s.i, s.at.Sub(t0), s.on.Sub(t0), k, want.Sub(t0))
		}
	}
	if want := t0.Add(50 * time.Millisecond); !st.End.Equal(want) {
		t.Errorf("end %v, want the schedule's end %v", st.End.Sub(t0), want.Sub(t0))
	}
}

// TestPacerCatchesUpWithoutShifting: a clock that oversleeps makes the
// pacer start every due event at once, each keeping its own scheduled time
// (latency is measured from it), never before that time; those started
// more than LateAfter behind count as late. The schedule does not drift:
// the number of events stays the rate × duration.
func TestPacerCatchesUpWithoutShifting(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := &fakeClock{now: t0, oversleep: 25 * time.Millisecond}
	st, got := runPacer(t, c, 1000, 100, nil)
	if st.Started != 100 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want all 100 started", st)
	}
	if c.sleeps >= 100 {
		t.Errorf("%d sleeps for 100 events: late events should start together", c.sleeps)
	}
	late := int64(0)
	for k, s := range got {
		want := t0.Add(time.Duration(k) * time.Millisecond)
		if !s.at.Equal(want) {
			t.Fatalf("event %d due %v, want %v: the schedule moved", s.i, s.at.Sub(t0), want.Sub(t0))
		}
		if s.on.Before(s.at) {
			t.Fatalf("event %d started at %v, before its time %v", s.i, s.on.Sub(t0), s.at.Sub(t0))
		}
		if s.on.Sub(s.at) > 10*time.Millisecond {
			late++
		}
	}
	if late == 0 || st.Late != late {
		t.Errorf("late %d, want %d (>0)", st.Late, late)
	}
	if st.End.Sub(st.Start) < 100*time.Millisecond {
		t.Errorf("window %v, shorter than the schedule", st.End.Sub(st.Start))
	}
}

// TestPacerDropsRefusedStarts: a start the caller refuses (in-flight cap
// reached) is counted as dropped, never retried, and the following
// events still start on their own time.
func TestPacerDropsRefusedStarts(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := &fakeClock{now: t0}
	st, got := runPacer(t, c, 100, 20, func(i int64) bool { return i%4 != 3 })
	if st.Scheduled != 20 || st.Started != 15 || st.Dropped != 5 {
		t.Fatalf("stats %+v, want 20 scheduled, 15 started, 5 dropped", st)
	}
	if len(got) != 20 {
		t.Fatalf("%d start calls, want 20 (a refused event is not retried)", len(got))
	}
	for k, s := range got {
		if s.i != int64(k) || !s.on.Equal(t0.Add(time.Duration(k)*10*time.Millisecond)) {
			t.Fatalf("call %d: event %d started at %v", k, s.i, s.on.Sub(t0))
		}
	}
}

// TestPacerStopsOnCancel: a cancelled context ends the run at once, on
// schedule or while catching up (a wake that finds every event due).
func TestPacerStopsOnCancel(t *testing.T) {
	for _, oversleep := range []time.Duration{0, time.Hour} {
		ctx, cancel := context.WithCancel(context.Background())
		c := &fakeClock{now: time.Unix(1700000000, 0), oversleep: oversleep}
		n := 0
		p := pacer{Rate: 100, N: 1000, LateAfter: time.Millisecond, Now: c.Now, Sleep: c.Sleep}
		st := p.run(ctx, func(int64, time.Time) bool {
			if n++; n == 10 {
				cancel()
			}
			return true
		})
		if st.Started != 10 {
			t.Errorf("oversleep %v: started %d after a cancel at the 10th, want 10", oversleep, st.Started)
		}
	}
}
