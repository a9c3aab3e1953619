package relay

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A lone call runs its statement at once; calls arriving while the limit
// of statements is in flight are merged into one next statement, and each
// gets its own answer.
func TestCombinerMergesQueuedCalls(t *testing.T) {
	var mu sync.Mutex
	var batches [][]int
	release := make(chan struct{})
	first := true
	c := newCombiner(1, 64, func(_ context.Context, calls []*combineCall[int, int]) {
		mu.Lock()
		var reqs []int
		for _, x := range calls {
			reqs = append(reqs, x.req)
		}
		batches = append(batches, reqs)
		block := first
		first = false
		mu.Unlock()
		if block {
			<-release
		}
		for _, x := range calls {
			x.res = x.req * 10
			if x.req == 3 {
				x.err = errors.New("three")
			}
		}
	})
	ctx := context.Background()
	got := make(chan [2]int, 10)
	go func() { r, _ := c.do(ctx, 100); got <- [2]int{100, r} }()
	waitFor(t, "the first statement", func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
	errs := make(chan error, 5)
	for i := 1; i <= 5; i++ {
		go func() { r, err := c.do(ctx, i); got <- [2]int{i, r}; errs <- err }()
	}
	waitFor(t, "five queued calls", func() bool { return c.queued() == 5 })
	close(release)
	answers := map[int]int{}
	for range 6 {
		a := <-got
		answers[a[0]] = a[1]
	}
	for _, i := range []int{100, 1, 2, 3, 4, 5} {
		if answers[i] != i*10 {
			t.Fatalf("call %d answered %d, want %d", i, answers[i], i*10)
		}
	}
	nerr := 0
	for range 5 {
		if err := <-errs; err != nil {
			nerr++
		}
	}
	if nerr != 1 {
		t.Fatalf("%d calls got an error, want 1 (call 3's own)", nerr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || !slices.Equal(batches[0], []int{100}) || len(batches[1]) != 5 {
		t.Fatalf("statements %v, want [100] then the five queued calls in one", batches)
	}
	if c.running != 0 || len(c.queue) != 0 {
		t.Fatalf("after the calls: running %d, queued %d", c.running, len(c.queue))
	}
}

// Up to limit statements run side by side before anything queues, and a
// statement takes at most maxCalls calls; the rest run in the next one.
func TestCombinerLimitAndMaxCalls(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	c := newCombiner(2, 3, func(_ context.Context, calls []*combineCall[int, int]) {
		mu.Lock()
		sizes = append(sizes, len(calls))
		mu.Unlock()
		<-release
	})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { c.do(context.Background(), i) })
	}
	waitFor(t, "two statements in flight", func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == 2 })
	for i := range 5 {
		wg.Go(func() { c.do(context.Background(), 10+i) })
	}
	waitFor(t, "five queued calls", func() bool { return c.queued() == 5 })
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range sizes {
		if n > 3 {
			t.Fatalf("a statement took %d calls, max 3: %v", n, sizes)
		}
		total += n
	}
	if total != 7 || len(sizes) > 5 || sizes[0] != 1 || sizes[1] != 1 {
		t.Fatalf("statement sizes %v: want 1, 1, then the 5 queued in at most 3 statements", sizes)
	}
}
