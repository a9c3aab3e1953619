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
// Knobs (environment): BENCH_MODE (all), BENCH_CONCURRENCY (32), BENCH_DURATION (10s),
// BENCH_MAX_EVENTS (200000), BENCH_DRAIN_TIMEOUT (60s), BENCH_BINARY (skip
// the build and run this binary), BENCH_DATABASE_ADMIN_URL (a loopback
// Postgres URL allowed to create databases). HOOKRELAY_* tuning variables
// in the environment reach the subprocess, except those the bench sets.
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
	Mode         string // "all" or "serve" (ingest only)
	Concurrency  int
	Duration     time.Duration
	MaxEvents    int
	DrainTimeout time.Duration
	Binary       string // empty: build bin/hookrelay
	AdminURL     string
}

// loadSettings reads the BENCH_* variables through getenv.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{Mode: getenv("BENCH_MODE"), Binary: getenv("BENCH_BINARY"), AdminURL: getenv("BENCH_DATABASE_ADMIN_URL")}
	var errs []error
	switch s.Mode {
	case "":
		s.Mode = "all"
	case "all", "serve":
	default:
		errs = append(errs, fmt.Errorf("BENCH_MODE=%q: want all or serve", s.Mode))
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

// run is the whole benchmark; it returns the exit code. Cleanup runs on
// every path, including Ctrl-C.
func run(ctx context.Context) int {
	s, err := loadSettings(os.Getenv)
	if err != nil {
		logf("%v", err)
		return 2
	}
	h := &harness{s: s}
	defer h.cleanup()
	if err := h.setUp(ctx); err != nil {
		logf("setup failed: %v", err)
		h.printLogTail()
		return 1
	}

	logf("load: %d workers for %s (max %d events) → %s", s.Concurrency, s.Duration, s.MaxEvents, h.ingestURL)
	cost0 := h.takeCostSample(ctx)
	cpu0 := takeCPUSample(h.cmd.Process.Pid)
	res := runLoad(ctx, loadConfig{URL: h.ingestURL, Secret: h.secret, Concurrency: s.Concurrency,
		Duration: s.Duration, MaxEvents: s.MaxEvents})
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
	rep.Passthrough = h.passthrough
	rep.Postgres = h.pgVersion
	rep.Version = h.version
	rep.CPULoad = cpuLoad.sub(cpu0)
	rep.CPUDrain = cpuEnd.sub(cpuLoad)
	rep.Logs = h.logCounts()
	rep.print(os.Stdout)

	switch {
	case rep.Interrupted:
		logf("interrupted")
		return 130
	case s.Mode == "all" && rep.Missing > 0:
		logf("FAIL: %d acknowledged events were never delivered (e.g. %s)", rep.Missing, strings.Join(missing[:min(3, len(missing))], ", "))
		h.printLogTail()
		return 1
	case len(acked) == 0:
		logf("FAIL: no event was acknowledged")
		h.printLogTail()
		return 1
	}
	return 0
}
