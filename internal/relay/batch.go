package relay

import (
	"context"
	"fmt"
	"sync"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Batcher lets concurrent ingest requests share one commit. Each of its
// loops takes whatever requests are waiting (up to maxBatch), stores them
// with Ingest in one transaction, and answers each after the commit. It
// never waits for a batch to fill: a lone request is committed at once,
// and under load batches grow by themselves while a commit is in flight.
type Batcher struct {
	r        *Relay
	ch       chan *pendingIngest
	maxBatch int
	wg       sync.WaitGroup
	// mu guards closed: a request arriving after Shutdown (a handler that
	// outlived the HTTP drain) gets ErrUnavailable instead of a send on a
	// closed channel.
	mu     sync.RWMutex
	closed bool
}

type pendingIngest struct {
	ctx  context.Context
	in   Inbound
	done chan ingestResult
}

type ingestResult struct {
	out Ingested
	err error
}

// NewBatcher starts loops committing batches of at most maxBatch. Several
// loops overlap one batch's fsync with the next batch's statements.
func (r *Relay) NewBatcher(loops, maxBatch int) *Batcher {
	b := &Batcher{r: r, ch: make(chan *pendingIngest, loops*maxBatch), maxBatch: max(maxBatch, 1)}
	for range max(loops, 1) {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// Ingest stores one verified event (batched with concurrent ones) and
// returns after its transaction committed.
func (b *Batcher) Ingest(ctx context.Context, in Inbound) (Ingested, error) {
	p := &pendingIngest{ctx: ctx, in: in, done: make(chan ingestResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return Ingested{}, fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
	select {
	case b.ch <- p:
	case <-ctx.Done():
		b.mu.RUnlock()
		return Ingested{}, ctx.Err()
	}
	b.mu.RUnlock()
	res := <-p.done // always answered: the loop owns p once queued
	return res.out, res.err
}

// Shutdown stops the loops after the queued requests are committed.
func (b *Batcher) Shutdown() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.ch)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher) loop() {
	defer b.wg.Done()
	batch := make([]*pendingIngest, 0, b.maxBatch)
	for p := range b.ch {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < b.maxBatch {
			select {
			case q, ok := <-b.ch:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			default:
				break fill
			}
		}
		b.commit(batch)
	}
}

// commit stores a batch; if the shared transaction fails for a reason
// other than the database being unreachable, each request is retried on
// its own so one bad event cannot fail its neighbours.
func (b *Batcher) commit(batch []*pendingIngest) {
	live := batch[:0:0]
	ins := make([]Inbound, 0, len(batch))
	for _, p := range batch {
		if p.ctx.Err() != nil { // the client gave up: nothing to acknowledge
			p.done <- ingestResult{err: p.ctx.Err()}
			continue
		}
		live = append(live, p)
		ins = append(ins, p.in)
	}
	if len(live) == 0 {
		return
	}
	out, err := b.r.Ingest(context.Background(), ins)
	if err == nil {
		for i, p := range live {
			p.done <- ingestResult{out: out[i]}
		}
		return
	}
	if len(live) == 1 || !store.IsDataError(err) {
		for _, p := range live {
			p.done <- ingestResult{err: err}
		}
		return
	}
	for _, p := range live {
		o, err := b.r.Ingest(context.Background(), []Inbound{p.in})
		if err != nil {
			p.done <- ingestResult{err: err}
			continue
		}
		p.done <- ingestResult{out: o[0]}
	}
}
