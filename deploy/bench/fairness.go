package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

const (
	// fairTarget is issue 10's bound: a slow endpoint of one team must not
	// delay another team's deliveries by more than this.
	fairTarget = time.Second
	// fairQueueLimit bounds the time to queue team A's events.
	fairQueueLimit = 30 * time.Second
	// fairBusyLimit bounds the wait for team A's endpoint to get its
	// first request; fairSettle then lets A's tasks take what worker
	// slots they can before team B sends.
	fairBusyLimit = 10 * time.Second
	fairSettle    = time.Second
	// fairGrace is how long past team A's first answers the bench still
	// waits for team B's events: a relay that lets A hold every slot
	// delivers B only once A answers.
	fairGrace = 10 * time.Second
)

// fairnessResult is BENCH_MODE=fairness's measurement.
type fairnessResult struct {
	QueuedA, AckedA int
	// ABusy: team A's endpoint got a request within fairBusyLimit of
	// A's last ack; FirstA is when, counted from A's first send.
	ABusy  bool
	FirstA time.Duration
	// Requests team A's endpoint received, how many it held when team
	// B's window ended, and the most it held at once.
	ARequests, AHeldAfterB, AHeldMost int
	Window                            time.Duration // team B's sending window
	Waited                            time.Duration // after the window, for B's events
	B                                 *report       // team B's open loop, joined with its sink
}

// fairWindow is how long team B sends: BENCH_DURATION, but ending before
// team A's endpoint gives its first answers.
func fairWindow(s settings) time.Duration {
	return max(time.Second, min(s.Duration, s.Slow-fairSettle-2*time.Second))
}

// verdict says whether team B kept within fairTarget while team A's
// endpoint held its requests, and what was measured. It fails when the
// scenario did not happen as designed (A never stuck, B never sent).
func (f *fairnessResult) verdict() (string, bool) {
	b := f.B
	switch {
	case !f.ABusy:
		return "not measured: team A's endpoint got no request", false
	case f.AHeldAfterB == 0:
		return "not measured: team A's endpoint held nothing when B's window ended", false
	case b == nil || b.Acked == 0:
		return "not measured: no event of team B acknowledged", false
	case b.Missing > 0:
		// Each missing event was sent before the wait began.
		return fmt.Sprintf("max > %.1fs (%d of %d events of team B not delivered)",
			f.Waited.Seconds(), b.Missing, b.Acked), false
	}
	return fmt.Sprintf("max %s (p50 %s, p99 %s)", ms(b.E2ELat.Max), ms(b.E2ELat.P50), ms(b.E2ELat.P99)), b.E2ELat.Max <= fairTarget
}

// teamB is the second team of the fairness scenario.
type teamB struct {
	ingestURL, secret string
	sink              *sink
}

var teamRe = regexp.MustCompile(`team (\S+) \(`)

// setUpTeamB creates a second team with its own token, a Stripe source
// and an endpoint to a fast sink, through the CLI and the API as a user
// would.
func (h *harness) setUpTeamB(ctx context.Context) (*teamB, error) {
	out, err := h.output(ctx, h.binary, "admin", "team", "create", "--name", "bench team B")
	if err != nil {
		return nil, err
	}
	m := teamRe.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("admin team create: no team id in %q", out)
	}
	if out, err = h.output(ctx, h.binary, "admin", "token", "create", "--team", m[1], "--name", "bench"); err != nil {
		return nil, err
	}
	lines := strings.Fields(out)
	if len(lines) == 0 {
		return nil, fmt.Errorf("admin token create: no token in %q", out)
	}
	token := lines[len(lines)-1]
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	b := &teamB{secret: "whsec_" + hex.EncodeToString(key)}
	var src struct {
		ID        string `json:"id"`
		IngestURL string `json:"ingest_url"`
	}
	if err := h.apiAs(ctx, token, "/api/v1/sources", map[string]any{"name": "bench B", "provider": "stripe", "secret": b.secret}, &src); err != nil {
		return nil, fmt.Errorf("team B source: %w", err)
	}
	b.ingestURL = src.IngestURL
	if b.sink, err = startSink(0); err != nil {
		return nil, err
	}
	var ep struct {
		ID string `json:"id"`
	}
	if err := h.apiAs(ctx, token, "/api/v1/endpoints", map[string]any{"url": b.sink.url, "source_ids": []string{src.ID}}, &ep); err != nil {
		b.sink.close()
		return nil, fmt.Errorf("team B endpoint: %w", err)
	}
	logf("team B %s: endpoint %s → %s, source %s", m[1], ep.ID, b.sink.url, src.ID)
	return b, nil
}

// runFairness queues team A's events to its slow endpoint (h.sink, which
// answers after BENCH_SLOW), waits until that endpoint holds requests,
// sends team B's events at BENCH_FAIR_RATE for fairWindow, waits for them
// to arrive (at most until fairGrace after A's first answers), then lets
// A's endpoint answer everything at once so nothing waits out BENCH_SLOW
// at shutdown.
func (h *harness) runFairness(ctx context.Context) (*report, int) {
	s := h.s
	b, err := h.setUpTeamB(ctx)
	if err != nil {
		logf("setup failed: %v", err)
		h.printLogTail()
		return nil, 1
	}
	defer b.sink.close()
	fr := &fairnessResult{QueuedA: s.FairQueued, Window: fairWindow(s)}

	logf("fairness: queueing %d events of team A to an endpoint that answers after %s", s.FairQueued, s.Slow)
	resA := runLoad(ctx, loadConfig{URL: h.ingestURL, Secret: h.secret, Concurrency: min(s.Concurrency, s.FairQueued),
		Duration: fairQueueLimit, MaxEvents: s.FairQueued})
	fr.AckedA = len(resA.ackedIDs())
	var firstA time.Time
	for deadline := time.Now().Add(fairBusyLimit); ctx.Err() == nil && time.Now().Before(deadline); {
		if _, _, _, firstA = h.sink.holding(); !firstA.IsZero() {
			fr.ABusy, fr.FirstA = true, firstA.Sub(resA.Start)
			break
		}
		_ = sleepCtx(ctx, 20*time.Millisecond)
	}
	_ = sleepCtx(ctx, fairSettle)

	logf("fairness: team B sends %d/s for %s → %s", s.FairRate, fr.Window, b.ingestURL)
	resB := runOpenLoop(ctx, loadConfig{URL: b.ingestURL, Secret: b.secret, Rate: s.FairRate, Duration: fr.Window,
		MaxEvents: s.MaxEvents, MaxInFlight: s.MaxInFlight})
	_, fr.AHeldAfterB, _, _ = h.sink.holding()
	if firstA.IsZero() {
		firstA = time.Now()
	}
	wait := max(5*time.Second, time.Until(firstA.Add(s.Slow+fairGrace)))
	logf("fairness: waiting up to %.1fs for team B's events (team A's endpoint holds %d requests)", wait.Seconds(), fr.AHeldAfterB)
	waitStart := time.Now()
	_, _ = b.sink.waitFor(ctx, resB.ackedIDs(), wait)
	fr.Waited = time.Since(waitStart)
	fr.ARequests, _, fr.AHeldMost, _ = h.sink.holding()
	h.sink.unblock() // A's held requests answer now: shutdown does not wait out BENCH_SLOW

	fr.B = buildReport(s, resB, b.sink)
	h.stopServer()
	rep := &report{S: s, Fair: fr, Interrupted: ctx.Err() != nil}
	h.fillCommon(rep)
	rep.print(os.Stdout)
	switch {
	case rep.Interrupted:
		logf("interrupted")
		return rep, 130
	case fr.AckedA == 0 || fr.B.Acked == 0:
		logf("FAIL: no event of team A or team B was acknowledged")
		h.printLogTail()
		return rep, 1
	}
	return rep, 0
}

// printFairness writes BENCH_MODE=fairness's lines.
func (r *report) printFairness(p func(string, ...any)) {
	f, b := r.Fair, r.Fair.B
	p("config    mode fairness, team A: %d events to an endpoint answering after %s; team B: %d/s for %s (open loop) to a fast endpoint; body %d B",
		f.QueuedA, r.S.Slow, r.S.FairRate, f.Window, bodySize)
	r.printOverrides(p)
	first := fmt.Sprintf("got no request within %s of the last ack", fairBusyLimit)
	if f.ABusy {
		first = fmt.Sprintf("got its first request %.2fs after A's first send", f.FirstA.Seconds())
	}
	p("team A    acknowledged %d of %d; its endpoint %s; %d requests received, at most %d held at once, %d held when B's window ended",
		f.AckedA, f.QueuedA, first, f.ARequests, f.AHeldMost, f.AHeldAfterB)
	o := b.Open
	p("team B    scheduled %d, sent %d (late %d, dropped %d), acknowledged %d, delivered %d, missing %d (waited %.1fs after sending), non-2xx/errors: %s",
		o.Pace.Scheduled, b.Requests, o.Pace.Late, o.Pace.Dropped, b.Acked, b.Delivered, b.Missing, f.Waited.Seconds(), countList(b.NotAcked))
	p("          ingest latency from scheduled send %s", b.IngestLat)
	if b.Delivered > 0 {
		p("          end-to-end latency (scheduled send → arrival) %s", b.E2ELat)
	} else {
		p("          end-to-end latency: no event of team B arrived")
	}
	measured, ok := f.verdict()
	p("fairness  target: team B's deliveries within %s while team A's endpoint holds its requests: %s → %s", fairTarget, measured, passFail(ok))
	if r.Interrupted {
		p("          INTERRUPTED: numbers cover a partial run")
	}
}

// passFail is the verdict word of a check.
func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
