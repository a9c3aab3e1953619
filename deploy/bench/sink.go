package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// sink is the endpoint hookrelay delivers to: it answers 204 at once and
// records, per webhook-id header (hookrelay's event id), when the event
// first arrived, counting any later arrival of the same id as a duplicate.
type sink struct {
	url string
	srv *http.Server

	mu         sync.Mutex
	first      map[string]time.Time
	duplicates int
	noID       int // requests without a webhook-id header
}

// startSink listens on a free loopback port and serves in the background.
func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/hook", first: make(map[string]time.Time, 1<<16)}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ServeHTTP records one delivery.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("Webhook-Id")
	s.mu.Lock()
	switch _, seen := s.first[id]; {
	case id == "":
		s.noID++
	case seen:
		s.duplicates++
	default:
		s.first[id] = now
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// arrival returns when event id first arrived.
func (s *sink) arrival(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[id]
	return t, ok
}

// counts returns distinct arrivals, duplicates and requests without an id.
func (s *sink) counts() (distinct, duplicates, noID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first), s.duplicates, s.noID
}

// waitFor polls until every id in ids has arrived, timeout passes or ctx
// ends, and returns the ids still missing (and ctx's error if it ended).
func (s *sink) waitFor(ctx context.Context, ids []string, timeout time.Duration) ([]string, error) {
	missing := append([]string(nil), ids...)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		s.mu.Lock()
		kept := missing[:0]
		for _, id := range missing {
			if _, ok := s.first[id]; !ok {
				kept = append(kept, id)
			}
		}
		s.mu.Unlock()
		missing = kept
		if len(missing) == 0 {
			return nil, nil
		}
		if time.Since(lastLog) >= 5*time.Second {
			logf("drain: %d of %d acknowledged events not delivered yet", len(missing), len(ids))
			lastLog = time.Now()
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return missing, nil
		case <-ctx.Done():
			return missing, ctx.Err()
		}
	}
}

// close stops the sink's server.
func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
