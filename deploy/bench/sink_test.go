package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// deliver hands the sink one request for event id, as hookrelay would.
func deliver(s *sink, id string) int {
	req := httptest.NewRequest(http.MethodPost, "/hook", nil)
	req.Header.Set("Webhook-Id", id)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code
}

// TestSinkWaitFor: waitFor returns exactly the ids that never arrived
// (scanning a backlog larger than one chunk), and nothing once they have.
func TestSinkWaitFor(t *testing.T) {
	s := &sink{first: map[string]time.Time{}, waiters: map[string]chan struct{}{}, release: make(chan struct{})}
	var ids []string
	for i := range 2500 {
		ids = append(ids, fmt.Sprintf("evt_%04d", i))
	}
	for _, id := range ids {
		if id != "evt_0007" && id != "evt_2042" {
			deliver(s, id)
		}
	}
	missing, err := s.waitFor(context.Background(), ids, 50*time.Millisecond)
	if err != nil || !slices.Equal(missing, []string{"evt_0007", "evt_2042"}) {
		t.Fatalf("missing %v (%v), want evt_0007 and evt_2042", missing, err)
	}
	deliver(s, "evt_0007")
	deliver(s, "evt_2042")
	deliver(s, "evt_2042") // a repeat counts as a duplicate
	if missing, err := s.waitFor(context.Background(), ids, 5*time.Second); err != nil || len(missing) != 0 {
		t.Fatalf("missing %v (%v) after every id arrived", missing, err)
	}
	if distinct, dup, _ := s.counts(); distinct != 2500 || dup != 1 {
		t.Errorf("distinct %d duplicates %d, want 2500 and 1", distinct, dup)
	}
}

// TestSinkHoldsUntilUnblock: the fairness scenario's slow endpoint records
// a request when it comes, holds it, and answers it as soon as unblock is
// called (the bench's shutdown does not wait out BENCH_SLOW).
func TestSinkHoldsUntilUnblock(t *testing.T) {
	s := &sink{first: map[string]time.Time{}, waiters: map[string]chan struct{}{}, release: make(chan struct{}), delay: time.Hour}
	done := make(chan int, 2)
	for _, id := range []string{"evt_a", "evt_b"} {
		go func() { done <- deliver(s, id) }()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, held, _, _ := s.holding(); held == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the two requests were not held within 5s")
		}
	}
	if _, ok := s.arrival("evt_a"); !ok {
		t.Error("a held request's arrival is not recorded")
	}
	select {
	case <-done:
		t.Fatal("a request was answered before unblock")
	default:
	}
	s.unblock()
	for range 2 {
		select {
		case code := <-done:
			if code != http.StatusNoContent {
				t.Errorf("answer %d, want 204", code)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a held request was not answered within 5s of unblock")
		}
	}
	if requests, held, most, _ := s.holding(); requests != 2 || held != 0 || most != 2 {
		t.Errorf("requests %d held %d most %d, want 2, 0, 2", requests, held, most)
	}
	s.unblock() // idempotent
}

// TestSinkAwait: await returns an arrival that came before or after the
// call, and gives up at its timeout.
func TestSinkAwait(t *testing.T) {
	s := &sink{first: map[string]time.Time{}, waiters: map[string]chan struct{}{}, release: make(chan struct{})}
	deliver(s, "evt_early")
	if _, ok := s.await(context.Background(), "evt_early", time.Second); !ok {
		t.Error("await missed an event that had already arrived")
	}
	go func() { time.Sleep(10 * time.Millisecond); deliver(s, "evt_late") }()
	if at, ok := s.await(context.Background(), "evt_late", 5*time.Second); !ok || at.IsZero() {
		t.Error("await missed an event arriving while it waited")
	}
	if _, ok := s.await(context.Background(), "evt_never", 10*time.Millisecond); ok {
		t.Error("await found an event that never came")
	}
}
