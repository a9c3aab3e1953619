package relay

import "sync"

// Slots is one worker's share rule: no endpoint may have more than Share
// requests in flight in this process, so an endpoint that answers slowly
// holds a bounded part of the worker and other teams' deliveries go on. A
// delivery that finds its endpoint's share used up is postponed (no
// attempt number used) rather than waiting, since waiting would hold a
// worker slot just the same. Safe for concurrent use.
type Slots struct {
	share int
	mu    sync.Mutex
	used  map[string]int
}

// NewSlots returns a share rule of share requests per endpoint (at least 1).
func NewSlots(share int) *Slots {
	return &Slots{share: max(share, 1), used: map[string]int{}}
}

// Share is the most requests one endpoint may have in flight.
func (s *Slots) Share() int { return s.share }

// InFlight is how many requests endpoint has in flight here.
func (s *Slots) InFlight(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used[endpoint]
}

// take reserves up to n of endpoint's slots and returns how many it got.
func (s *Slots) take(endpoint string, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := min(n, s.share-s.used[endpoint])
	if k <= 0 {
		return 0
	}
	s.used[endpoint] += k
	return k
}

// give returns n of endpoint's slots.
func (s *Slots) give(endpoint string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[endpoint] -= n; s.used[endpoint] <= 0 {
		delete(s.used, endpoint)
	}
}
