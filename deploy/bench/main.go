// Command bench is `make bench`: a bounded, self-contained load benchmark of
// hookrelay on loopback. It builds bin/hookrelay, creates a throwaway
// Postgres database (hookrelay_bench) and uses Redis DB 14, runs
// `hookrelay all` as a subprocess, posts Stripe-signed events to a Stripe
// source's ingest URL from BENCH_CONCURRENCY goroutines for BENCH_DURATION,
// waits until every acknowledged event reached an in-process sink endpoint,
// prints a report and cleans everything up. It exits non-zero when an
// acknowledged event was never delivered.
//
// BENCH_MODE=serve runs `hookrelay serve` alone instead: ingest only, the
// deliveries pile up in PostgreSQL and Redis, nothing is delivered or
// waited for, and costs are reported per acknowledged event.
//
// BENCH_RATE=N replaces the closed loop by an open one: events are due on
// a fixed schedule of N per second whatever the answers, up to
// BENCH_MAX_INFLIGHT requests at once (a send due while that many are
// outstanding is dropped and counted), and latency is measured from the
// scheduled time, so a stalled relay shows as latency rather than as a
// slower sender (no coordinated omission).
//
// BENCH_MODE=lone sends BENCH_LONE events one at a time to an idle `hookrelay
// all`, each 100 ms after the previous one arrived, and reports ingest →
// arrival. BENCH_MODE=fairness queues BENCH_FAIR_QUEUED events of team A to
// an endpoint that answers after BENCH_SLOW, then sends team B's events at
// BENCH_FAIR_RATE per second to a fast endpoint and reports B's end-to-end
// latency against the 1 s target (fairness.go). BENCH_SUITE=1 (`make
// bench-all`) runs issue 10's scenarios in sequence and prints a table of
// target, measured value and pass/fail (suite.go).
//
// Knobs (environment): BENCH_MODE (all), BENCH_CONCURRENCY (32), BENCH_DURATION (10s),
// BENCH_MAX_EVENTS (200000), BENCH_DRAIN_TIMEOUT (60s), BENCH_BINARY (skip
// the build and run this binary), BENCH_DATABASE_ADMIN_URL (a loopback
// Postgres URL allowed to create databases), BENCH_RATE, BENCH_MAX_INFLIGHT
// (2000), BENCH_LONE (50), BENCH_SLOW (20s), BENCH_FAIR_QUEUED (500),
// BENCH_FAIR_RATE (50), BENCH_SUITE, BENCH_OPEN_DURATION (60s, the suite's
// open loop). HOOKRELAY_* tuning variables in the environment reach the
// subprocess, except those the bench sets.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settings are the BENCH_* knobs after parsing.
type settings struct {
	Mode         string // "all", "serve" (ingest only), "lone" or "fairness"
	Concurrency  int
	Duration     time.Duration
	MaxEvents    int
	DrainTimeout time.Duration
	Binary       string // empty: build bin/hookrelay
	AdminURL     string

	Rate         int           // events/s of the open loop; 0: closed loop of Concurrency senders
	MaxInFlight  int           // open loop: requests outstanding at most
	Lone         int           // lone mode: events sent one at a time
	Slow         time.Duration // fairness: team A's endpoint answers after this
	FairQueued   int           // fairness: team A's events queued to the slow endpoint
	FairRate     int           // fairness: team B's events/s
	Suite        bool          // run every scenario of issue 10 and print the table
	OpenDuration time.Duration // suite: length of the open loop
}

// subcommand is the hookrelay command a mode runs.
func (s settings) subcommand() string {
	if s.Mode == "serve" {
		return "serve"
	}
	return "all"
}

// loadSettings reads the BENCH_* variables through getenv.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{Mode: getenv("BENCH_MODE"), Binary: getenv("BENCH_BINARY"), AdminURL: getenv("BENCH_DATABASE_ADMIN_URL")}
	var errs []error
	switch s.Mode {
	case "":
		s.Mode = "all"
	case "all", "serve", "lone", "fairness":
	default:
		errs = append(errs, fmt.Errorf("BENCH_MODE=%q: want all, serve, lone or fairness", s.Mode))
	}
	switch v := getenv("BENCH_SUITE"); v {
	case "", "0", "false":
	case "1", "true":
		s.Suite = true
		if getenv("BENCH_MODE") != "" {
			errs = append(errs, errors.New("BENCH_SUITE runs every mode in turn: unset BENCH_MODE"))
		}
	default:
		errs = append(errs, fmt.Errorf("BENCH_SUITE=%q: want 1 or 0", v))
	}
	if s.AdminURL == "" {
		s.AdminURL = "postgres://hookrelay:hookrelay@127.0.0.1:5432/postgres?sslmode=disable"
	}
	num := func(k string, def int, dst *int) {
		*dst = def
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive integer", k, v))
			}
			*dst = n
		}
	}
	dur := func(k string, def time.Duration, dst *time.Duration) {
		*dst = def
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive duration like 10s", k, v))
			}
			*dst = d
		}
	}
	num("BENCH_CONCURRENCY", 32, &s.Concurrency)
	num("BENCH_MAX_EVENTS", 200000, &s.MaxEvents)
	dur("BENCH_DURATION", 10*time.Second, &s.Duration)
	dur("BENCH_DRAIN_TIMEOUT", 60*time.Second, &s.DrainTimeout)
	rate := 0
	if s.Suite {
		rate = suiteRate // the end-to-end target
	}
	num("BENCH_RATE", rate, &s.Rate)
	num("BENCH_MAX_INFLIGHT", 2000, &s.MaxInFlight)
	num("BENCH_LONE", 50, &s.Lone)
	dur("BENCH_SLOW", 20*time.Second, &s.Slow)
	num("BENCH_FAIR_QUEUED", 500, &s.FairQueued)
	num("BENCH_FAIR_RATE", 50, &s.FairRate)
	dur("BENCH_OPEN_DURATION", 60*time.Second, &s.OpenDuration)
	if s.Slow > maxSlow {
		errs = append(errs, fmt.Errorf("BENCH_SLOW=%s: at most %s (an endpoint's timeout is at most 120s)", s.Slow, maxSlow))
	}
	if s.Binary != "" { // relative to where the bench was started, not the module root
		if abs, err := filepath.Abs(s.Binary); err == nil {
			s.Binary = abs
		}
	}
	if err := checkLoopbackURL(s.AdminURL); err != nil {
		errs = append(errs, fmt.Errorf("BENCH_DATABASE_ADMIN_URL: %w", err))
	}
	return s, errors.Join(errs...)
}

// checkLoopbackURL refuses any database URL that does not point at a
// loopback address: the bench drops and creates databases.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return fmt.Errorf("host %q is not loopback (the bench only talks to 127.0.0.1)", host)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

// logf prints a progress line on stderr; the report goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// run is the whole benchmark; it returns the exit code.
func run(ctx context.Context) int {
	s, err := loadSettings(os.Getenv)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if s.Suite {
		return runSuite(ctx, s)
	}
	_, code := runScenario(ctx, s)
	return code
}

// runScenario sets up a fresh database, Redis DB and hookrelay for s, runs
// its mode, prints the report and returns it with the exit code. Cleanup
// runs on every path, including Ctrl-C. The report is nil when the setup
// failed.
func runScenario(ctx context.Context, s settings) (*report, int) {
	h := &harness{s: s}
	defer h.cleanup()
	if err := h.setUp(ctx); err != nil {
		logf("setup failed: %v", err)
		h.printLogTail()
		return nil, 1
	}
	switch s.Mode {
	case "lone":
		return h.runLone(ctx)
	case "fairness":
		return h.runFairness(ctx)
	}
	return h.runLoadMode(ctx)
}

// runLoadMode is BENCH_MODE=all or serve: a closed or open loop of load,
// then (all) the wait for every acknowledged event to arrive.
func (h *harness) runLoadMode(ctx context.Context) (*report, int) {
	s := h.s
	cfg := loadConfig{URL: h.ingestURL, Secret: h.secret, Concurrency: s.Concurrency,
		Duration: s.Duration, MaxEvents: s.MaxEvents, Rate: s.Rate, MaxInFlight: s.MaxInFlight}
	if s.Rate > 0 {
		logf("load: open loop %d/s for %s (max %d events, at most %d in flight) → %s", s.Rate, s.Duration, s.MaxEvents, s.MaxInFlight, h.ingestURL)
	} else {
		logf("load: %d workers for %s (max %d events) → %s", s.Concurrency, s.Duration, s.MaxEvents, h.ingestURL)
	}
	cost0 := h.takeCostSample(ctx)
	cpu0 := takeCPUSample(h.cmd.Process.Pid)
	var res *loadResult
	if s.Rate > 0 {
		res = runOpenLoop(ctx, cfg)
	} else {
		res = runLoad(ctx, cfg)
	}
	cpuLoad := takeCPUSample(h.cmd.Process.Pid)

	acked := res.ackedIDs()
	var missing []string
	drained, cpuEnd := time.Now(), cpuLoad
	if s.Mode == "all" {
		logf("load done: %d requests, %d acknowledged; waiting up to %s for deliveries", len(res.Records), len(acked), s.DrainTimeout)
		var drainErr error
		missing, drainErr = h.sink.waitFor(ctx, acked, s.DrainTimeout)
		drained = time.Now()
		cpuEnd = takeCPUSample(h.cmd.Process.Pid)
		if drainErr != nil {
			logf("drain interrupted: %v", drainErr)
		}
	} else {
		logf("load done: %d requests, %d acknowledged (serve only: deliveries are not awaited)", len(res.Records), len(acked))
	}

	redisFlushed := redisMarkerGone(context.WithoutCancel(ctx))
	redisEnd := h.takeRedisSample(context.WithoutCancel(ctx))
	h.stopServer() // backends exit and flush their statistics
	cost := h.takeCostSample(context.WithoutCancel(ctx))
	cost.redis = redisEnd
	rep := buildReport(s, res, h.sink)
	rep.Cost = cost.sub(cost0)
	rep.StmtNote = h.stmtNote
	rep.RedisFlushed = redisFlushed
	rep.DrainAfterLoad = drained.Sub(res.End)
	rep.Interrupted = ctx.Err() != nil
	h.fillCommon(rep)
	rep.CPULoad = cpuLoad.sub(cpu0)
	rep.CPUDrain = cpuEnd.sub(cpuLoad)
	rep.print(os.Stdout)

	switch {
	case rep.Interrupted:
		logf("interrupted")
		return rep, 130
	case s.Mode == "all" && rep.Missing > 0:
		logf("FAIL: %d acknowledged events were never delivered (e.g. %s)", rep.Missing, strings.Join(missing[:min(3, len(missing))], ", "))
		h.printLogTail()
		return rep, 1
	case len(acked) == 0:
		logf("FAIL: no event was acknowledged")
		h.printLogTail()
		return rep, 1
	}
	return rep, 0
}

// fillCommon copies what every report shows from the harness: versions,
// overrides, memory and the log counts. hookrelay must have stopped.
func (h *harness) fillCommon(rep *report) {
	rep.Passthrough = h.passthrough
	rep.Postgres = h.pgVersion
	rep.Version = h.version
	rep.RSS = h.rssStats
	rep.Logs = h.logCounts()
}
