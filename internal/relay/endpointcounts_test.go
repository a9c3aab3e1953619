package relay_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// TestEndpointStatesGauge: hookrelay_endpoints counts real endpoint rows
// by state at scrape time, every state present (0 when none).
func TestEndpointStatesGauge(t *testing.T) {
	r, st, team := newRelay(t, nil)
	reg := prometheus.NewRegistry()
	metrics.New(reg).Watch(metrics.Sources{Endpoints: r.EndpointStates})
	expect := func(want string) {
		t.Helper()
		mfs, err := reg.Gather()
		testenv.Must(t, err)
		var got []string
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if mf.GetName() == "hookrelay_endpoints" {
					got = append(got, fmt.Sprintf("%s{state=%q} %g", mf.GetName(), m.GetLabel()[0].GetValue(), m.GetGauge().GetValue()))
				} else if mf.GetName() == "hookrelay_collector_up" {
					got = append(got, fmt.Sprintf("up %s %g", m.GetLabel()[0].GetValue(), m.GetGauge().GetValue()))
				}
			}
		}
		if g := strings.Join(got, "\n"); g != strings.TrimSpace(want) {
			t.Fatalf("got\n%s\nwant\n%s", g, want)
		}
	}
	expect(`up endpoints 1
hookrelay_endpoints{state="disabled"} 0
hookrelay_endpoints{state="enabled"} 0
hookrelay_endpoints{state="paused"} 0
`)
	now := time.Now().UTC()
	add := func(enabled, paused bool) {
		ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: team, URL: "https://example.com/h", Enabled: enabled,
			SigningScheme: "standard-webhooks", CreatedAt: now, UpdatedAt: now}
		if paused {
			ep.PausedAt = &now
		}
		testenv.Must(t, st.CreateEndpoint(context.Background(), ep))
	}
	add(true, false)
	add(true, false)
	add(true, true)
	add(false, false)
	add(false, true) // disabled wins over paused
	expect(`up endpoints 1
hookrelay_endpoints{state="disabled"} 2
hookrelay_endpoints{state="enabled"} 2
hookrelay_endpoints{state="paused"} 1
`)
}
