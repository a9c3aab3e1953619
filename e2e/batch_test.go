package e2e_test

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Concurrent requests share commits through the batcher; duplicates that
// land in the same batch still collapse to one event, and every
// acknowledged event is delivered once.
func TestConcurrentIngestSharesCommits(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	const n = 60 // 30 distinct provider ids, each sent twice at once
	ids := make([]string, n)
	bodies := make([][]byte, n/2) // a provider's retry carries the same bytes
	for i := range bodies {
		bodies[i] = stripeEvent(fmt.Sprintf("evt_c%d", i), "invoice.paid")
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, resp := e.postStripe(src, bodies[i/2], stripeSecret, time.Now())
			if status != 200 {
				t.Errorf("request %d: %d %v", i, status, resp)
				return
			}
			ids[i] = resp["id"].(string)
		}()
	}
	wg.Wait()
	for i := 0; i < n; i += 2 {
		if ids[i] != ids[i+1] {
			t.Fatalf("same provider id got two events: %s and %s", ids[i], ids[i+1])
		}
	}
	if ev := e.count("events"); ev != n/2 {
		t.Fatalf("events = %d, want %d", ev, n/2)
	}
	for i := 0; i < n; i += 2 {
		e.waitDelivery(ids[i], ep.ID, store.StatusSucceeded)
	}
	if got := s.received(); got != n/2 {
		t.Fatalf("endpoint received %d, want %d", got, n/2)
	}
}
