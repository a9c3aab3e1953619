package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestPercentile checks the nearest-rank definition on small inputs.
func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value any p", ms(7), 99, 7 * time.Millisecond},
		{"p50 of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p50 of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"tiny p is the min", ms(1, 2, 3, 4), 0.1, 1 * time.Millisecond},
		{"p0 clamps to the min", ms(1, 2, 3, 4), 0, 1 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99 of 10 values is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(p=%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

// TestSummarizeSorts checks that summarize works on unsorted input.
func TestSummarizeSorts(t *testing.T) {
	got := summarize([]time.Duration{5, 1, 4, 2, 3})
	if want := (latency{P50: 3, P95: 5, P99: 5, Max: 5}); got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
}

// TestEventBodySize checks the generated body is about bodySize and unique.
func TestEventBodySize(t *testing.T) {
	a, b := eventBody("abc123", 1, time.Unix(1700000000, 0)), eventBody("abc123", 2, time.Unix(1700000000, 0))
	if len(a) < bodySize-16 || len(a) > bodySize+16 {
		t.Errorf("body is %d bytes, want about %d", len(a), bodySize)
	}
	if string(a) == string(b) {
		t.Error("two events have the same body")
	}
}

// TestEventBodyJSON checks the generated body is valid JSON with the
// fields hookrelay's Stripe verifier reads.
func TestEventBodyJSON(t *testing.T) {
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(eventBody("abc123", 42, time.Now()), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_bench_abc123_0000000042" || ev.Type == "" {
		t.Errorf("id %q type %q", ev.ID, ev.Type)
	}
}

// TestSustainedRate: deliveries per second over the load after its first
// second, with the per-second counts; arrivals before the window (warm-up)
// or after the load are left out.
func TestSustainedRate(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var arrivals []time.Time
	add := func(from, to time.Duration, n int) { // n arrivals spread over [from, to)
		for k := range n {
			arrivals = append(arrivals, t0.Add(from+time.Duration(k)*(to-from)/time.Duration(n)))
		}
	}
	add(0, time.Second, 500)             // warm-up second: not counted
	add(time.Second, 2*time.Second, 100) // a slow second
	add(2*time.Second, 5*time.Second, 600)
	add(5*time.Second, 8*time.Second, 900) // after the load: backlog
	got, perSec := sustainedRate(arrivals, t0, t0.Add(5*time.Second))
	if got != 175 { // (100 + 600) / 4 s
		t.Errorf("rate %v, want 175", got)
	}
	if want := []int{100, 200, 200, 200}; !slices.Equal(perSec, want) {
		t.Errorf("per second %v, want %v", perSec, want)
	}
	if lo, med := minMedian(perSec); lo != 100 || med != 200 {
		t.Errorf("min %d median %d, want 100 and 200", lo, med)
	}
	// A window under two seconds is taken whole.
	if got, _ := sustainedRate(arrivals, t0, t0.Add(time.Second)); got != 500 {
		t.Errorf("short window rate %v, want 500", got)
	}
}
