package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A leaked ingest URL hammered with bad signatures cannot fill the disk:
// every request is answered 401, but at most the cap per source and minute
// is stored. The clock is fixed, so all 1,000 fall in one minute.
func TestRejectionsAreCappedPerSourcePerMinute(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	e := newEnvWith(t, envOptions{guard: loopbackGuard(), now: func() time.Time { return clock }})
	var src obj
	e.call("POST", "/api/v1/sources", obj{"name": "Stripe", "provider": "stripe",
		"secret": "whsec_" + strings.Repeat("k", 32)}, 201, &src)
	path := strings.TrimPrefix(src["ingest_url"].(string), "http://relay.test")
	post := func(i int) int {
		req := httptest.NewRequest("POST", path, strings.NewReader(fmt.Sprintf(`{"id":"evt_%d","type":"x"}`, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%064x", clock.Unix(), i))
		return e.send(req).Status
	}
	for i := range 1000 {
		if st := post(i); st != 401 {
			t.Fatalf("request %d: status %d, want 401", i, st)
		}
	}
	count := func() int64 {
		n, err := e.db.NewSelect().Table("rejected_requests").Where("source_id = ?", src["id"]).Count(context.Background())
		testenv.Must(t, err)
		return int64(n)
	}
	if n := count(); n != relay.DefaultRejectionsPerMinute {
		t.Fatalf("%d rejected requests stored, want the cap %d", n, relay.DefaultRejectionsPerMinute)
	}
	// The next minute stores again.
	clock = clock.Add(time.Minute)
	if st := post(1000); st != 401 {
		t.Fatalf("next minute: status %d", st)
	}
	if n := count(); n != relay.DefaultRejectionsPerMinute+1 {
		t.Fatalf("after a minute: %d stored, want %d", n, relay.DefaultRejectionsPerMinute+1)
	}
}
