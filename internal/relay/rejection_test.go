package relay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Rejections over the per-minute cap are counted, not stored; retention
// deletes rejected requests older than the retention period with the rest.
func TestRejectionsCappedAndExpired(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	now := time.Now().UTC()
	clock := now.AddDate(0, 0, -40)
	m := metrics.New(prometheus.NewRegistry())
	r := relay.New(relay.Deps{Store: st, Metrics: m, Now: func() time.Time { return clock }},
		relay.Options{RejectionsPerMinute: 5})
	src := &store.Source{ID: "src_capped", TeamID: "team_a"}
	reject := func(n int) {
		for range n {
			testenv.Must(t, r.RecordRejection(ctx, src, "signature mismatch", "192.0.2.1", http.Header{}))
		}
	}
	stored := func() int64 {
		n, err := db.NewSelect().Table("rejected_requests").Where("source_id = ?", src.ID).Count(ctx)
		testenv.Must(t, err)
		return int64(n)
	}
	reject(12) // 40 days ago: 5 stored, 7 counted
	if n := stored(); n != 5 {
		t.Fatalf("%d stored, want the cap 5", n)
	}
	if got := unrecorded(t, m, src.ID); got != 7 {
		t.Fatalf("hookrelay_rejected_unrecorded_total = %v, want 7", got)
	}
	clock = now.AddDate(0, 0, -1)
	reject(3) // yesterday: a new minute, all 3 stored
	if n := stored(); n != 8 {
		t.Fatalf("%d stored after a new minute, want 8", n)
	}
	clock = now
	rep, err := r.RunRetention(ctx, relay.RetentionPolicy{Retention: 30 * 24 * time.Hour})
	testenv.Must(t, err)
	if rep.RejectedDeleted != 5 || stored() != 3 {
		t.Fatalf("retention deleted %d rejected requests, %d left; want 5 and 3", rep.RejectedDeleted, stored())
	}
}

// unrecorded reads hookrelay_rejected_unrecorded_total for a source.
func unrecorded(t *testing.T, m *metrics.Metrics, source string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	testenv.Must(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "hookrelay_rejected_unrecorded_total" {
			continue
		}
		for _, x := range mf.GetMetric() {
			for _, l := range x.GetLabel() {
				if l.GetName() == "source_id" && l.GetValue() == source {
					return x.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
