package delivery

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	good := []struct {
		in   string
		want Schedule
		str  string
	}{
		{"5s,5m,30m,2h", Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}, "5s,5m,30m,2h"},
		{" 1m , 90s ,1h30m", Schedule{time.Minute, 90 * time.Second, 90 * time.Minute}, "1m,1m30s,1h30m"},
		{"168h", Schedule{MaxScheduleDelay}, "168h"},
		{"250ms", Schedule{250 * time.Millisecond}, "250ms"},
		{strings.Repeat("1s,", 49) + "1s", Schedule(repeat(time.Second, 50)), strings.Repeat("1s,", 49) + "1s"},
	}
	for _, tt := range good {
		got, err := ParseSchedule(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if got.String() != tt.str || len(got) != len(tt.want) {
			t.Fatalf("%q: got %v (%s)", tt.in, []time.Duration(got), got)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%q: entry %d = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
		again, err := ParseSchedule(got.String())
		if err != nil || again.String() != got.String() {
			t.Fatalf("round trip of %q: %v %v", got, again, err)
		}
	}

	bad := []struct{ in, want string }{
		{"", "empty"},
		{"  ", "empty"},
		{"5s,,5m", `entry 2 "": empty`},
		{"5s,5m,", `entry 3 "": empty`},
		{"5s,5x", `entry 2 "5x"`},
		{"5", `entry 1 "5"`},
		{"5s,0s", `entry 2 "0s": must be greater than 0`},
		{"-1m", `entry 1 "-1m": must be greater than 0`},
		{"1m,169h", `entry 2 "169h": must be at most 168h`},
		{strings.Repeat("1s,", 50) + "1s", "51 entries, at most 50"},
	}
	for _, tt := range bad {
		_, err := ParseSchedule(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestDefaultSchedule(t *testing.T) {
	if got, want := DefaultSchedule.String(), "5s,5m,30m,2h,5h,10h,10h"; got != want {
		t.Fatalf("DefaultSchedule = %s, want %s", got, want)
	}
}

func TestScheduleNext(t *testing.T) {
	s := Schedule{10 * time.Second, time.Minute, 2 * time.Hour}
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	almostOne := fixed(0.9999999999)

	tests := []struct {
		name       string
		n          int
		jitter     float64
		retryAfter time.Duration
		rnd        func() float64
		want       time.Duration
		ok         bool
	}{
		{"first attempt immediate", 0, 0, 0, nil, 0, true},
		{"after 1", 1, 0, 0, nil, 10 * time.Second, true},
		{"after 2", 2, 0, 0, nil, time.Minute, true},
		{"after 3", 3, 0, 0, nil, 2 * time.Hour, true},
		{"exhausted", 4, 0, 0, nil, 0, false},
		{"exhausted far", 100, 0.2, time.Minute, nil, 0, false},
		{"jitter low", 2, 0.2, 0, fixed(0), 48 * time.Second, true},
		{"jitter mid", 2, 0.2, 0, fixed(0.5), time.Minute, true},
		{"retry-after longer", 1, 0, 5 * time.Minute, nil, 5 * time.Minute, true},
		{"retry-after shorter ignored", 2, 0, 5 * time.Second, nil, time.Minute, true},
		{"retry-after capped", 1, 0, 6 * time.Hour, nil, MaxRetryAfter, true},
		{"retry-after cap below schedule", 3, 0, 6 * time.Hour, nil, 2 * time.Hour, true},
		{"retry-after beats low jitter", 2, 0.2, 55 * time.Second, fixed(0), 55 * time.Second, true},
		{"jitter clamped to 1", 2, 3, 0, fixed(0.75), 90 * time.Second, true},
		{"negative jitter ignored", 2, -0.5, 0, fixed(0), time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Next(tt.n, tt.jitter, tt.retryAfter, tt.rnd)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Next(%d) = %v, %v; want %v, %v", tt.n, got, ok, tt.want, tt.ok)
			}
		})
	}

	// rnd → 1 gives just under +20 %.
	got, _ := s.Next(2, 0.2, 0, almostOne)
	if hi := 72 * time.Second; got > hi || got < hi-time.Millisecond {
		t.Fatalf("jitter high = %v, want just under %v", got, hi)
	}
	// With the real source every delay stays within ±20 %.
	for range 1000 {
		d, _ := DefaultSchedule.Next(4, 0.2, 0, nil)
		if d < 96*time.Minute || d >= 144*time.Minute {
			t.Fatalf("jittered 2h = %v, outside ±20 %%", d)
		}
	}
	if _, ok := (Schedule{}).Next(1, 0, 0, nil); ok {
		t.Fatal("empty schedule should be exhausted after attempt 1")
	}
}
