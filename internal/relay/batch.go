package relay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Batcher lets concurrent ingest requests share one commit. Each of its
// loops takes whatever requests are waiting (up to maxBatch), stores them
// with Ingest in one statement, and answers each after the commit.
//
// A lone request is committed at once: a loop waits for a batch to fill
// only while other requests are in flight (being committed by another
// loop), and then at most FillWait. That is load by definition: the
// senders answered by the other commit are about to send again, and a
// commit costs PostgreSQL about as much for 100 events as for 5, so
// waiting a moment for them buys throughput for at most FillWait of
// latency. It never acknowledges anything before its commit.
type Batcher struct {
	r        *Relay
	ch       chan *pendingIngest
	maxBatch int
	// inflight counts requests inside Ingest: queued, in a batch being
	// filled, or being committed.
	inflight atomic.Int64
	fillWait time.Duration
	onWait   func() // tests: called when a batch starts waiting to fill
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

// FillWait is the longest a batch waits for more requests, and only under
// load (see Batcher).
const FillWait = 2 * time.Millisecond

// NewBatcher starts loops committing batches of at most maxBatch. Several
// loops overlap one batch's fsync with the next batch's statements.
func (r *Relay) NewBatcher(loops, maxBatch int) *Batcher {
	b := &Batcher{r: r, ch: make(chan *pendingIngest, loops*maxBatch), maxBatch: max(maxBatch, 1), fillWait: FillWait}
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
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
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
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for p := range b.ch {
		b.commit(b.fill(append(batch[:0], p), timer))
	}
}

// fill adds to batch what is queued, then, only while other requests are
// in flight, what arrives within fillWait, up to maxBatch.
func (b *Batcher) fill(batch []*pendingIngest, timer *time.Timer) []*pendingIngest {
	for len(batch) < b.maxBatch {
		select {
		case q, ok := <-b.ch:
			if !ok {
				return batch
			}
			batch = append(batch, q)
			continue
		default:
		}
		break
	}
	if len(batch) >= b.maxBatch || b.inflight.Load() <= int64(len(batch)) {
		return batch // alone: commit at once
	}
	if b.onWait != nil {
		b.onWait()
	}
	timer.Reset(b.fillWait)
	defer timer.Stop()
	for len(batch) < b.maxBatch {
		select {
		case q, ok := <-b.ch:
			if !ok {
				return batch
			}
			batch = append(batch, q)
		case <-timer.C:
			return batch
		}
	}
	return batch
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
	if len(live) == 1 || store.IsUnavailable(err) {
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
