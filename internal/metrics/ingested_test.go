package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Ingested is called on every ingest request: it counts into the
// registered series and allocates nothing (no label maps per request;
// WithLabelValues of this client_golang does not allocate, so no cache of
// series is needed, and this test says when that changes).
func TestIngestedCountsWithoutAllocating(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for range 3 { // AllocsPerRun below adds 101 (one warm-up)
		m.Ingested("src_a", Accepted, time.Millisecond)
	}
	m.Ingested("src_b", Duplicate, time.Millisecond)
	if allocs := testing.AllocsPerRun(100, func() { m.Ingested("src_a", Accepted, time.Millisecond) }); allocs != 0 {
		t.Errorf("Ingested allocates %v times per call", allocs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "hookrelay_events_received_total" {
			continue
		}
		for _, x := range mf.GetMetric() {
			key := ""
			for _, l := range x.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + " "
			}
			got[key] = x.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"outcome=accepted source_id=src_a ": 104, "outcome=duplicate source_id=src_b ": 1}
	if len(got) != len(want) || got["outcome=accepted source_id=src_a "] != 104 || got["outcome=duplicate source_id=src_b "] != 1 {
		t.Fatalf("events received %v, want %v", got, want)
	}
}
