package worker

import (
	"context"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// wakeLimit bounds the announced tasks a worker runs at once outside
// asynq's slots (they run only while asynq runs none here).
const wakeLimit = 4

// wakeRuns tracks the announced tasks running here, so Shutdown can let
// them finish like asynq's own.
type wakeRuns struct {
	sem    chan struct{}
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// startWake listens on the wake channel until ctx ends. An announced task
// runs here only when asynq runs no delivery task in this worker (a busy
// worker polls without sleeping anyway) and fewer than wakeLimit announced
// ones are running; otherwise the message is dropped and the queued task
// waits for the poll as before.
func (w *Worker) startWake(ctx context.Context) {
	w.woken.sem = make(chan struct{}, wakeLimit)
	// Deliveries outlive the listener: Shutdown waits for them.
	w.woken.ctx, w.woken.cancel = context.WithCancel(context.WithoutCancel(ctx))
	sub := w.opt.Wake.Subscribe(ctx, relay.WakeChannel(w.opt.Wake))
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer sub.Close()
		ch := sub.Channel() // go-redis resubscribes after a reconnect
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				w.onWake(m.Payload)
			}
		}
	}()
}

// onWake runs one announced task when this worker is idle.
func (w *Worker) onWake(payload string) {
	if w.active.Load() > 0 {
		return
	}
	p, err := relay.ParseWake(payload)
	if err != nil {
		w.log.Debug("wake_ignored", "error", err.Error())
		return
	}
	select {
	case w.woken.sem <- struct{}{}:
	default:
		return
	}
	w.woken.wg.Add(1)
	go func() {
		defer w.woken.wg.Done()
		defer func() { <-w.woken.sem }()
		if err := w.relay.DeliverWoken(w.woken.ctx, p, w.slots); err != nil {
			// The queued task is still there: asynq runs it.
			w.log.Warn("woken_delivery_failed", "delivery_id", p.DeliveryID, "error", err.Error())
		}
	}()
}

// stop waits up to timeout for running announced tasks, then cancels
// them (a delivery cut off is retried, as one of asynq's would be).
func (r *wakeRuns) stop(timeout time.Duration) {
	if r.cancel == nil {
		return
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		r.cancel()
		<-done
	}
	r.cancel()
}
