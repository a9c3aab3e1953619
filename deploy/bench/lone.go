package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

const (
	// loneIdle is the pause before each lone event, after the previous
	// one arrived, so the relay is as idle as it is for a lone event: no
	// batch filling, no delivery in progress.
	loneIdle = 100 * time.Millisecond
	// loneWait bounds the wait for one lone event to arrive; one that
	// does not ends the series (the relay is stuck, the rest would wait
	// too).
	loneWait = 10 * time.Second
)

// loneResult is BENCH_MODE=lone's measurement.
type loneResult struct {
	Sent, Acked, Arrived int
	NotAcked             map[string]int
	Ingest               latency // send → 2xx
	ToArrival            latency // send → arrival at the sink
	Stopped              string  // why the series ended early, if it did
}

// runLone sends h.s.Lone events one at a time, each loneIdle after the
// previous one arrived at the sink, to an otherwise idle `hookrelay all`.
func (h *harness) runLone(ctx context.Context) (*report, int) {
	client, tr := newLoadClient(1)
	defer tr.CloseIdleConnections()
	cfg := loadConfig{URL: h.ingestURL, Secret: h.secret}
	tag := runTag()
	lr := &loneResult{NotAcked: map[string]int{}}
	var ingest, arrival []time.Duration
	logf("lone: %d events one at a time, each %s after the previous one arrived → %s", h.s.Lone, loneIdle, h.ingestURL)
	for i := range h.s.Lone {
		if sleepCtx(ctx, loneIdle) != nil {
			break
		}
		rec := post(ctx, client, cfg, eventBody(tag, int64(i+1), time.Now()), time.Time{})
		lr.Sent++
		if rec.EventID == "" {
			lr.NotAcked[rec.failure()]++
			continue
		}
		lr.Acked++
		ingest = append(ingest, rec.Latency)
		at, ok := h.sink.await(ctx, rec.EventID, loneWait)
		if !ok {
			if ctx.Err() == nil {
				lr.Stopped = fmt.Sprintf("event %s had not arrived %s after it was acknowledged", rec.EventID, loneWait)
			}
			break
		}
		lr.Arrived++
		arrival = append(arrival, at.Sub(rec.Start))
	}
	lr.Ingest, lr.ToArrival = summarize(ingest), summarize(arrival)
	h.stopServer()
	rep := &report{S: h.s, Lone: lr, Interrupted: ctx.Err() != nil}
	h.fillCommon(rep)
	rep.print(os.Stdout)
	switch {
	case rep.Interrupted:
		logf("interrupted")
		return rep, 130
	case lr.Acked == 0:
		logf("FAIL: no event was acknowledged")
		h.printLogTail()
		return rep, 1
	case lr.Stopped != "":
		logf("FAIL: %s", lr.Stopped)
		h.printLogTail()
		return rep, 1
	}
	return rep, 0
}

// printLone writes BENCH_MODE=lone's lines.
func (r *report) printLone(p func(string, ...any)) {
	lr := r.Lone
	p("config    mode lone, %d events one at a time, each sent %s after the previous one arrived, body %d B",
		r.S.Lone, loneIdle, bodySize)
	r.printOverrides(p)
	p("lone      sent %d, acknowledged %d, arrived %d, non-2xx/errors: %s", lr.Sent, lr.Acked, lr.Arrived, countList(lr.NotAcked))
	short := func(l latency) string { return fmt.Sprintf("p50 %s  p95 %s  max %s", ms(l.P50), ms(l.P95), ms(l.Max)) }
	p("          ingest latency (send → 2xx) %s", short(lr.Ingest))
	p("          ingest → arrival (send → arrival at the sink) %s", short(lr.ToArrival))
	switch {
	case r.Interrupted:
		p("          INTERRUPTED: numbers cover a partial run")
	case lr.Stopped != "":
		p("          STOPPED: %s", lr.Stopped)
	}
}
