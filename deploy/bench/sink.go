package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// sink is the endpoint hookrelay delivers to: it answers 204 (at once, or
// after delay for the fairness scenario's slow endpoint) and records, per
// webhook-id header (hookrelay's event id), when the event first arrived,
// counting any later arrival of the same id as a duplicate.
type sink struct {
	url     string
	srv     *http.Server
	delay   time.Duration // 0: answer at once
	release chan struct{} // closed by unblock: held requests answer now
	once    sync.Once

	mu           sync.Mutex
	first        map[string]time.Time
	duplicates   int
	noID         int                      // requests without a webhook-id header
	waiters      map[string]chan struct{} // closed when that id arrives (await)
	requests     int                      // every request, duplicates included
	firstRequest time.Time
	inFlight     int // requests being held (delay > 0)
	mostInFlight int
}

// startSink listens on a free loopback port and serves in the background;
// every request is answered after delay (0: at once).
func startSink(delay time.Duration) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/hook", first: make(map[string]time.Time, 1<<16),
		delay: delay, release: make(chan struct{}), waiters: map[string]chan struct{}{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ServeHTTP records one delivery, then holds it for s.delay.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("Webhook-Id")
	s.mu.Lock()
	if s.requests++; s.requests == 1 {
		s.firstRequest = now
	}
	switch _, seen := s.first[id]; {
	case id == "":
		s.noID++
	case seen:
		s.duplicates++
	default:
		s.first[id] = now
		if c, ok := s.waiters[id]; ok {
			close(c)
			delete(s.waiters, id)
		}
	}
	s.inFlight++
	s.mostInFlight = max(s.mostInFlight, s.inFlight)
	s.mu.Unlock()
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-s.release:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// unblock answers every held request now and any later one at once.
func (s *sink) unblock() { s.once.Do(func() { close(s.release) }) }

// holding returns the requests received, those held now, the most held
// at once, and when the first request came (zero if none has).
func (s *sink) holding() (requests, now, most int, first time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.inFlight, s.mostInFlight, s.firstRequest
}

// await waits until event id has arrived, timeout passes or ctx ends, and
// returns its arrival time.
func (s *sink) await(ctx context.Context, id string, timeout time.Duration) (time.Time, bool) {
	s.mu.Lock()
	if at, ok := s.first[id]; ok {
		s.mu.Unlock()
		return at, true
	}
	c, ok := s.waiters[id]
	if !ok {
		c = make(chan struct{})
		s.waiters[id] = c
	}
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c:
		return s.arrival(id)
	case <-t.C:
	case <-ctx.Done():
	}
	return time.Time{}, false
}

// arrivals returns the first arrival times of ids that arrived.
func (s *sink) arrivals(ids []string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]time.Time, 0, len(ids))
	for _, id := range ids {
		if at, ok := s.first[id]; ok {
			out = append(out, at)
		}
	}
	return out
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
	lastLog := time.Now()
	for {
		// In chunks, so a scan of a large backlog never holds up the
		// deliveries the sink is timing.
		kept := missing[:0]
		for i := 0; i < len(missing); i += 1024 {
			s.mu.Lock()
			for _, id := range missing[i:min(i+1024, len(missing))] {
				if _, ok := s.first[id]; !ok {
					kept = append(kept, id)
				}
			}
			s.mu.Unlock()
		}
		missing = kept
		if len(missing) == 0 {
			return nil, nil
		}
		if time.Since(lastLog) >= 5*time.Second {
			logf("drain: %d of %d acknowledged events not delivered yet", len(missing), len(ids))
			lastLog = time.Now()
		}
		// Every 20 ms near the end (the drain time's resolution), less
		// often while a large backlog makes each scan costly.
		wait := 20 * time.Millisecond
		if len(missing) > 1000 {
			wait = 200 * time.Millisecond
		}
		tick := time.NewTimer(wait)
		select {
		case <-tick.C:
		case <-deadline.C:
			tick.Stop()
			return missing, nil
		case <-ctx.Done():
			tick.Stop()
			return missing, ctx.Err()
		}
	}
}

// close answers any held request and stops the sink's server.
func (s *sink) close() {
	s.unblock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
