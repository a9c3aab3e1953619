package relay

import (
	"context"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// combiner lets concurrent delivery tasks share one bookkeeping statement
// (claim, finish), the way the Batcher lets ingest requests share a
// commit. A call that finds fewer than limit statements in flight runs
// its own at once, so a lone delivery waits for nothing. Calls arriving
// while limit statements are in flight queue; when a statement ends, its
// caller hands the next one to the first queued call, which runs it for
// itself and every call queued behind it (up to maxCalls). Under load the
// statements carry many tasks' deliveries: a claim or finish costs
// PostgreSQL a fixed part (executor start, the events partitions, the
// round trip) whatever its size.
//
// There are no goroutines of its own: callers run the statements.
type combiner[Q, R any] struct {
	// exec runs one statement for calls and sets each call's res and err.
	exec     func(ctx context.Context, calls []*combineCall[Q, R])
	limit    int
	maxCalls int

	mu      sync.Mutex
	running int // statements in flight or handed to a queued call
	queue   []*combineCall[Q, R]
}

type combineCall[Q, R any] struct {
	req  Q
	res  R
	err  error
	wake chan bool // true: run the next statement; false: res and err are set
}

func newCombiner[Q, R any](limit, maxCalls int, exec func(context.Context, []*combineCall[Q, R])) *combiner[Q, R] {
	return &combiner[Q, R]{exec: exec, limit: max(limit, 1), maxCalls: max(maxCalls, 1)}
}

// do runs req, alone or with other calls' requests, and returns its result.
// The statement runs without the callers' cancellation (it may carry
// other tasks' requests); the store's own timeouts bound it.
func (c *combiner[Q, R]) do(ctx context.Context, req Q) (R, error) {
	me := &combineCall[Q, R]{req: req, wake: make(chan bool, 1)}
	c.mu.Lock()
	if c.running < c.limit {
		c.running++
		c.mu.Unlock()
		c.lead(ctx, me)
		return me.res, me.err
	}
	c.queue = append(c.queue, me)
	c.mu.Unlock()
	if <-me.wake {
		c.lead(ctx, me)
	}
	return me.res, me.err
}

// lead runs one statement for me and the calls queued now, answers them,
// then passes its turn to the next queued call or gives it back.
func (c *combiner[Q, R]) lead(ctx context.Context, me *combineCall[Q, R]) {
	c.mu.Lock()
	n := min(len(c.queue), c.maxCalls-1)
	calls := make([]*combineCall[Q, R], 0, n+1)
	calls = append(append(calls, me), c.queue[:n]...)
	c.queue = append(c.queue[:0:0], c.queue[n:]...)
	c.mu.Unlock()

	c.exec(context.WithoutCancel(ctx), calls)
	for _, o := range calls[1:] {
		o.wake <- false
	}

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.running--
		c.mu.Unlock()
		return
	}
	next := c.queue[0]
	c.queue = c.queue[1:]
	c.mu.Unlock()
	next.wake <- true
}

// queued is how many calls wait (tests).
func (c *combiner[Q, R]) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// Bookkeeping statements in flight at once per process, and tasks per
// statement. Two in flight keep PostgreSQL busy while the other's answer
// travels back.
const (
	combineLimit    = 2
	combineMaxCalls = 64
)

// claimReq is one task's claim.
type claimReq struct {
	reqs []store.ClaimRequest
	now  time.Time
}

// newClaimCombiner merges tasks' claims into one ClaimAttempts. Each task
// gets back what was claimed of its own requests, in its order; a delivery
// two tasks asked for goes to the first one (ClaimAttempts claims it once).
func (r *Relay) newClaimCombiner() *combiner[claimReq, []*store.Claimed] {
	return newCombiner(combineLimit, combineMaxCalls, func(ctx context.Context, calls []*combineCall[claimReq, []*store.Claimed]) {
		var all []store.ClaimRequest
		for _, c := range calls {
			all = append(all, c.req.reqs...)
		}
		cs, err := r.st.ClaimAttempts(ctx, all, calls[0].req.now, r.opt.DeliveryTimeout, leaseMargin)
		byID := make(map[string]*store.Claimed, len(cs))
		for _, x := range cs {
			byID[x.DeliveryID] = x
		}
		for _, c := range calls {
			if c.err = err; err != nil {
				continue
			}
			for _, q := range c.req.reqs {
				if x, ok := byID[q.DeliveryID]; ok {
					c.res = append(c.res, x)
					delete(byID, q.DeliveryID)
				}
			}
		}
	})
}

// finishReq is one task's finished attempts.
type finishReq struct {
	fs  []store.Finished
	now time.Time
}

// newFinishCombiner merges tasks' finished attempts into one FinishAttempts.
func (r *Relay) newFinishCombiner() *combiner[finishReq, struct{}] {
	return newCombiner(combineLimit, combineMaxCalls, func(ctx context.Context, calls []*combineCall[finishReq, struct{}]) {
		var all []store.Finished
		for _, c := range calls {
			all = append(all, c.req.fs...)
		}
		err := r.st.FinishAttempts(ctx, all, calls[0].req.now)
		for _, c := range calls {
			c.err = err
		}
	})
}
