package main

import (
	"strings"
	"testing"
	"time"
)

// goodRuns is a suite where every scenario met its target.
func goodRuns() []suiteRun {
	base := settings{Concurrency: 32, Duration: 10 * time.Second, OpenDuration: 60 * time.Second, Rate: 2000,
		Lone: 50, Slow: 20 * time.Second, FairQueued: 500, FairRate: 50, DrainTimeout: time.Minute, MaxInFlight: 2000}
	runs := suiteScenarios(base)
	rss := rssStats{Valid: true, PeakKB: 100_000, HWMKB: 110_000, FinalKB: 90_000}
	for i := range runs {
		r := &runs[i]
		r.Ran = true
		rep := &report{S: r.S, RSS: rss}
		switch r.Kind {
		case "serve":
			rep.Acked, rep.LoadWindow, rep.IngestLat = 60_000, 10*time.Second, latency{P99: 40 * time.Millisecond}
		case "closed":
			rep.Acked, rep.Delivered, rep.LoadWindow, rep.DrainAfterLoad = 35_000, 35_000, 10*time.Second, 3*time.Second
		case "open":
			rep.Acked, rep.Delivered, rep.E2ELat = 120_000, 120_000, latency{P99: 200 * time.Millisecond}
			rep.Open = &openLoop{Sustained: 2000.2}
		case "lone":
			rep.Lone = &loneResult{Sent: 50, Acked: 50, Arrived: 50, ToArrival: latency{P50: 12 * time.Millisecond}}
		case "fairness":
			b := &report{Acked: 500, Delivered: 500, E2ELat: latency{P50: 10 * time.Millisecond, P99: 40 * time.Millisecond, Max: 300 * time.Millisecond}}
			rep.Fair = &fairnessResult{ABusy: true, FirstA: 100 * time.Millisecond, AHeldAfterB: 192, AckedA: 500, B: b}
		}
		r.Rep = rep
	}
	return runs
}

// rowsFailing returns the targets of the rows that did not pass.
func rowsFailing(rows []row) []string {
	var out []string
	for _, r := range rows {
		if !r.Pass {
			out = append(out, r.Target+": "+r.Measured)
		}
	}
	return out
}

// TestSuiteRowsAllMet: every target met gives every row PASS, one row
// per target of issue 10 (and the loss check).
func TestSuiteRowsAllMet(t *testing.T) {
	rows := suiteRows(goodRuns())
	if len(rows) != 10 {
		t.Fatalf("%d rows, want 10: %+v", len(rows), rows)
	}
	if f := rowsFailing(rows); len(f) > 0 {
		t.Errorf("failing rows in a suite meeting every target: %v", f)
	}
}

// TestSuiteRowsFailBelowTarget: each shortfall fails its own row, and
// only that one: a PASS only when the measured number meets the target.
func TestSuiteRowsFailBelowTarget(t *testing.T) {
	cases := []struct {
		name  string
		kind  string
		spoil func(r *report)
		fails string // substring of the one failing row's target
	}{
		{"serve rate", "serve", func(r *report) { r.Acked = 49_990 }, "≥ 5000"},
		{"serve p99", "serve", func(r *report) { r.IngestLat.P99 = 51 * time.Millisecond }, "p99 ≤ 50"},
		{"mixed rate", "closed", func(r *report) { r.Acked, r.Delivered = 29_000, 29_000 }, "≥ 3000"},
		{"slow drain", "closed", func(r *report) { r.DrainAfterLoad = 11 * time.Second }, "drained"},
		{"sustained rate", "open", func(r *report) { r.Open.Sustained = 1999.4 }, "sustained"},
		{"dropped sends", "open", func(r *report) { r.Open.Pace.Dropped = 1 }, "sustained"},
		{"e2e p99", "open", func(r *report) { r.E2ELat.P99 = 251 * time.Millisecond }, "end-to-end"},
		{"lone p50", "lone", func(r *report) { r.Lone.ToArrival.P50 = 16 * time.Millisecond }, "arrival p50"},
		{"lone stopped", "lone", func(r *report) { r.Lone.Stopped = "stuck" }, "arrival p50"},
		{"fairness max", "fairness", func(r *report) { r.Fair.B.E2ELat.Max = 1100 * time.Millisecond }, "team B"},
		{"A never stuck", "fairness", func(r *report) { r.Fair.AHeldAfterB = 0 }, "team B"},
		{"A got nothing", "fairness", func(r *report) { r.Fair.ABusy = false }, "team B"},
		{"memory", "lone", func(r *report) { r.RSS.HWMKB = 250_000 }, "RSS"},
	}
	for _, c := range cases {
		runs := goodRuns()
		for i := range runs {
			if runs[i].Kind == c.kind {
				c.spoil(runs[i].Rep)
			}
		}
		f := rowsFailing(suiteRows(runs))
		if len(f) != 1 || !strings.Contains(f[0], c.fails) {
			t.Errorf("%s: failing rows %q, want just the one on %q", c.name, f, c.fails)
		}
	}
}

// TestSuiteRowsLossesFail: an acknowledged event never delivered fails its
// scenario's rows and the loss row, even with fast numbers.
func TestSuiteRowsLossesFail(t *testing.T) {
	runs := goodRuns()
	for i := range runs {
		if runs[i].Kind == "open" {
			runs[i].Rep.Delivered, runs[i].Rep.Missing = 119_999, 1
		}
	}
	f := rowsFailing(suiteRows(runs))
	if len(f) != 3 {
		t.Errorf("failing rows %q, want sustained, end-to-end and delivered", f)
	}
	runs = goodRuns()
	b := runs[4].Rep.Fair.B
	b.Delivered, b.Missing = 499, 1
	if f := rowsFailing(suiteRows(runs)); len(f) != 1 || !strings.Contains(f[0], "not delivered") {
		t.Errorf("fairness with a team B event never delivered: failing %q", f)
	}
}

// TestSuiteRowsNotRun: a scenario that did not run, failed to set up or
// was interrupted fails its rows instead of passing on zero values.
func TestSuiteRowsNotRun(t *testing.T) {
	runs := goodRuns()
	runs[0].Rep = nil                     // setup failed
	runs[1].Rep.Interrupted = true        // Ctrl-C
	runs[3].Ran, runs[3].Rep = false, nil // never reached
	f := rowsFailing(suiteRows(runs))
	// The loss row counts the open loop, the one that ran to the end.
	want := []string{"setup failed", "setup failed", "interrupted", "interrupted", "not run"}
	if len(f) != len(want) {
		t.Fatalf("failing rows %q, want %d", f, len(want))
	}
	for i, w := range want {
		if !strings.Contains(f[i], w) {
			t.Errorf("row %d %q, want %q", i, f[i], w)
		}
	}
}
