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
	r    *Relay
	ch   chan []Ingested
	wg   sync.WaitGroup
	once sync.Once
}

// NewDispatcher starts workers goroutines draining a queue of size buf.
func (r *Relay) NewDispatcher(workers, buf int) *Dispatcher {
	d := &Dispatcher{r: r, ch: make(chan []Ingested, buf)}
	for range workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for res := range d.ch {
				r.Dispatch(context.Background(), res)
			}
		}()
	}
	return d
}

// Submit hands results over without blocking.
func (d *Dispatcher) Submit(res []Ingested) {
	select {
	case d.ch <- res:
	default:
		d.r.log.Warn("dispatch_queue_full", "events", len(res))
	}
}

// Shutdown stops taking work and waits until what was submitted is enqueued.
func (d *Dispatcher) Shutdown() {
	d.once.Do(func() { close(d.ch) })
	d.wg.Wait()
}
