package relay

import (
	"sync"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Slots is one worker's share rule: no endpoint may hold more than Share
// of the worker's task slots at once (each running task sends at most
// Wave requests, so an endpoint has at most Share×Wave in flight here), so
// an endpoint that answers slowly holds a bounded part of the worker and
// other teams' deliveries go on.
//
// A task that finds its endpoint's share used up does not wait (that would
// hold a worker slot just the same): it hands its deliveries, unclaimed,
// to the endpoint's running tasks and ends. Those take them in their next
// waves, so a backlog of small tasks for one endpoint is delivered in
// full waves by at most Share tasks. The last running task of an endpoint
// enqueues what is still handed over when it ends. Handed-over deliveries
// stay pending and due in Postgres: if this process dies, the sweeper
// enqueues them again. Safe for concurrent use.
type Slots struct {
	share int
	mu    sync.Mutex
	used  map[string]int
	// handed holds deliveries given to an endpoint's running tasks.
	handed map[string][]handed
}

// handed is one delivery handed to an endpoint's running tasks.
type handed struct {
	req    store.ClaimRequest
	manual bool
}

// maxHanded bounds the deliveries waiting in an endpoint's hand-over
// list; beyond it a task postpones its deliveries in Postgres instead.
const maxHanded = 10000

// NewSlots returns a share rule of share tasks per endpoint (at least 1).
func NewSlots(share int) *Slots {
	return &Slots{share: max(share, 1), used: map[string]int{}, handed: map[string][]handed{}}
}

// Share is the most tasks one endpoint may have running.
func (s *Slots) Share() int { return s.share }

// InFlight is how many tasks of endpoint run here.
func (s *Slots) InFlight(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used[endpoint]
}

// admission is what enter decided.
type admission int

const (
	admitted   admission = iota // run the task (a slot is held: call leave)
	handedOver                  // the deliveries went to the running tasks
	full                        // share and hand-over list full: postpone
)

// enter takes one of endpoint's slots, or hands reqs to its running tasks.
func (s *Slots) enter(endpoint string, reqs []store.ClaimRequest, manual bool) admission {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[endpoint] < s.share {
		s.used[endpoint]++
		return admitted
	}
	if len(s.handed[endpoint])+len(reqs) > maxHanded {
		return full
	}
	for _, r := range reqs {
		s.handed[endpoint] = append(s.handed[endpoint], handed{req: r, manual: manual})
	}
	return handedOver
}

// next takes up to n handed-over deliveries of endpoint with one manual
// flag (the first waiting one's).
func (s *Slots) next(endpoint string, n int) ([]store.ClaimRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.handed[endpoint]
	if len(q) == 0 {
		return nil, false
	}
	manual := q[0].manual
	var out []store.ClaimRequest
	rest := q[:0]
	for _, h := range q {
		if len(out) < n && h.manual == manual {
			out = append(out, h.req)
			continue
		}
		rest = append(rest, h)
	}
	if len(rest) == 0 {
		delete(s.handed, endpoint)
	} else {
		s.handed[endpoint] = rest
	}
	return out, manual
}

// leave gives back a slot; the last task of an endpoint to leave gets
// what is still handed over, to enqueue.
func (s *Slots) leave(endpoint string) []handed {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[endpoint]--; s.used[endpoint] > 0 {
		return nil
	}
	delete(s.used, endpoint)
	rest := s.handed[endpoint]
	delete(s.handed, endpoint)
	return rest
}

// take reserves a slot without ever handing over: for a task whose
// endpoint was unknown until its claim (its deliveries are claimed
// already), and for a woken run, which leaves a full endpoint's
// deliveries to their queued task instead (DeliverWoken).
func (s *Slots) take(endpoint string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[endpoint] >= s.share {
		return false
	}
	s.used[endpoint]++
	return true
}
