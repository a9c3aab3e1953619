package relay

import (
	"context"
	"sync"
)

// Dispatcher enqueues the first attempts of ingested events off the
// request path: the provider gets its 2xx right after the commit, and a
// slow or absent Redis never holds an acknowledgement back. It is bounded;
// when full, work is dropped and the sweeper enqueues it later.
type Dispatcher struct {
	r  *Relay
	ch chan []Ingested
	wg sync.WaitGroup
	// mu guards closed: work submitted after Shutdown is left to the sweeper.
	mu     sync.RWMutex
	closed bool
}

// NewDispatcher starts workers goroutines draining a queue of size buf.
func (r *Relay) NewDispatcher(workers, buf int) *Dispatcher {
	d := &Dispatcher{r: r, ch: make(chan []Ingested, buf)}
	for range workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for res := range d.ch {
				r.Dispatch(context.Background(), d.coalesce(res))
			}
		}()
	}
	return d
}

// dispatchBatch bounds the results one Dispatch call takes.
const dispatchBatch = 256

// coalesce appends the results already waiting in the queue to res, so
// one Dispatch groups the deliveries of many requests by endpoint (the API
// submits each request's results on its own). It never waits: a lone
// event is enqueued at once.
func (d *Dispatcher) coalesce(res []Ingested) []Ingested {
	for len(res) < dispatchBatch {
		select {
		case more, ok := <-d.ch:
			if !ok {
				return res
			}
			res = append(res, more...)
		default:
			return res
		}
	}
	return res
}

// Submit hands results over without blocking.
func (d *Dispatcher) Submit(res []Ingested) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return
	}
	select {
	case d.ch <- res:
	default:
		d.r.log.Warn("dispatch_queue_full", "events", len(res))
	}
}

// Shutdown stops taking work and waits until what was submitted is enqueued.
func (d *Dispatcher) Shutdown() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.ch)
	}
	d.mu.Unlock()
	d.wg.Wait()
}
