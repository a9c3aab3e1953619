package relay

import (
	"testing"
	"time"
)

// A lone request is committed at once, even with an endless fill wait;
// while others are in flight the batch waits for more, up to maxBatch.
func TestBatcherFill(t *testing.T) {
	newBatcher := func() (*Batcher, *time.Timer) {
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		return &Batcher{ch: make(chan *pendingIngest, 8), maxBatch: 4, fillWait: time.Hour}, timer
	}
	done := make(chan []*pendingIngest, 1)

	b, timer := newBatcher()
	b.inflight.Store(1)
	go func() { done <- b.fill([]*pendingIngest{{}}, timer) }()
	select {
	case got := <-done:
		if len(got) != 1 {
			t.Fatalf("lone request: batch of %d", len(got))
		}
	case <-time.After(30 * time.Second): // a generous bound: the fill wait is an hour
		t.Fatal("a lone request waited for the batch to fill")
	}

	b, timer = newBatcher()
	b.inflight.Store(3) // two more are being committed by another loop
	b.ch <- &pendingIngest{}
	b.onWait = func() { // two more arrive while the batch waits
		b.ch <- &pendingIngest{}
		b.ch <- &pendingIngest{}
	}
	go func() { done <- b.fill([]*pendingIngest{{}}, timer) }()
	if got := <-done; len(got) != 4 {
		t.Fatalf("under load: batch of %d, want maxBatch 4", len(got))
	}

	b, timer = newBatcher()
	b.fillWait = time.Millisecond
	b.inflight.Store(3)
	go func() { done <- b.fill([]*pendingIngest{{}}, timer) }()
	if got := <-done; len(got) != 1 {
		t.Fatalf("after the fill wait: batch of %d, want what had arrived (1)", len(got))
	}
}
