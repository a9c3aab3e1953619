package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// suiteRate is the suite's open-loop rate unless BENCH_RATE says
// otherwise: issue 10's end-to-end target.
const suiteRate = 2000

// Issue 10's targets, as the suite checks them.
const (
	targetServeRate = 5000 // acknowledged events/s, `serve` alone, closed loop
	targetServeP99  = 50 * time.Millisecond
	targetMixedRate = 3000 // acknowledged events/s, `all`, closed loop
	targetDrain     = 10 * time.Second
	targetE2ERate   = 2000 // deliveries/s sustained, open loop
	targetE2EP99    = 250 * time.Millisecond
	targetLoneP50   = 15 * time.Millisecond
	targetRSSMB     = 250
)

// suiteRun is one scenario of the suite and, once run, its outcome.
type suiteRun struct {
	Kind string // serve, closed, open, lone, fairness
	Name string // for the table
	S    settings
	Ran  bool
	Rep  *report // nil when it did not run or its setup failed
	Code int
}

// row is one line of the summary table.
type row struct {
	Scenario, Target, Measured string
	Pass                       bool
}

// suiteScenarios derives each scenario's settings from the knobs: the
// closed loops and the fairness window last BENCH_DURATION, the open loop
// BENCH_OPEN_DURATION at BENCH_RATE.
func suiteScenarios(base settings) []suiteRun {
	mk := func(mode string) settings {
		s := base
		s.Suite, s.Mode, s.Rate = false, mode, 0
		return s
	}
	open := mk("all")
	open.Rate, open.Duration = base.Rate, base.OpenDuration
	fair := mk("fairness")
	return []suiteRun{
		{Kind: "serve", Name: fmt.Sprintf("serve, %d senders closed loop, %s", base.Concurrency, base.Duration), S: mk("serve")},
		{Kind: "closed", Name: fmt.Sprintf("all, %d senders closed loop, %s", base.Concurrency, base.Duration), S: mk("all")},
		{Kind: "open", Name: fmt.Sprintf("all, open loop %d/s, %s", base.Rate, base.OpenDuration), S: open},
		{Kind: "lone", Name: fmt.Sprintf("all, %d lone events", base.Lone), S: mk("lone")},
		{Kind: "fairness", Name: fmt.Sprintf("all, A: %d events × %s answer; B: %d/s for %s", base.FairQueued, base.Slow, base.FairRate, fairWindow(fair)), S: fair},
	}
}

// runSuite builds hookrelay once, runs every scenario in turn on a fresh
// database, prints each report, then the table. It exits 1 unless every
// target is met.
func runSuite(ctx context.Context, base settings) int {
	if base.Binary == "" {
		// A private build: a `make build` elsewhere during the suite
		// cannot swap the binary between scenarios.
		root, err := moduleRoot(ctx)
		if err != nil {
			logf("%v", err)
			return 1
		}
		dir, err := os.MkdirTemp("", "hookrelay-bench-suite-*")
		if err != nil {
			logf("%v", err)
			return 1
		}
		defer os.RemoveAll(dir)
		base.Binary = filepath.Join(dir, "hookrelay")
		if err := (&harness{root: root}).build(ctx, base.Binary); err != nil {
			logf("build failed: %v", err)
			return 1
		}
	}
	runs := suiteScenarios(base)
	start := time.Now()
	for i := range runs {
		if ctx.Err() != nil {
			break
		}
		logf("suite %d/%d: %s", i+1, len(runs), runs[i].Name)
		runs[i].Rep, runs[i].Code = runScenario(ctx, runs[i].S)
		runs[i].Ran = true
	}
	rows := suiteRows(runs)
	printSuite(os.Stdout, runs, rows, time.Since(start))
	if ctx.Err() != nil {
		return 130
	}
	for _, r := range rows {
		if !r.Pass {
			return 1
		}
	}
	return 0
}

// whole rounds a rate to the events/s the table shows; the check compares
// that shown value (a run that kept pace at exactly the offered rate
// measures it within a fraction of an event per second either way).
func whole(v float64) int { return int(math.Round(v)) }

// suiteRows turns the outcomes into the table: a row passes only when
// its scenario ran to the end and the measured number meets the target.
func suiteRows(runs []suiteRun) []row {
	find := func(kind string) (*suiteRun, string) {
		for i := range runs {
			r := &runs[i]
			switch {
			case r.Kind != kind:
				continue
			case !r.Ran:
				return r, "not run"
			case r.Rep == nil:
				return r, "setup failed"
			case r.Rep.Interrupted:
				return r, "interrupted"
			}
			return r, ""
		}
		return &suiteRun{Name: kind}, "not run"
	}
	var rows []row
	add := func(kind, target string, measure func(rep *report) (string, bool)) {
		r, why := find(kind)
		if why != "" {
			rows = append(rows, row{r.Name, target, why, false})
			return
		}
		m, ok := measure(r.Rep)
		rows = append(rows, row{r.Name, target, m, ok})
	}
	missing := func(rep *report) string {
		if rep.Missing > 0 {
			return fmt.Sprintf(", %d of %d not delivered", rep.Missing, rep.Acked)
		}
		return ""
	}

	add("serve", fmt.Sprintf("ingest ≥ %d acknowledged/s", targetServeRate), func(rep *report) (string, bool) {
		v := whole(rate(rep.Acked, rep.LoadWindow))
		return fmt.Sprintf("%d/s", v), v >= targetServeRate
	})
	add("serve", "ingest p99 ≤ "+targetServeP99.String(), func(rep *report) (string, bool) {
		return ms(rep.IngestLat.P99), rep.Acked > 0 && rep.IngestLat.P99 <= targetServeP99
	})
	add("closed", fmt.Sprintf("ingest ≥ %d acknowledged/s", targetMixedRate), func(rep *report) (string, bool) {
		v := whole(rate(rep.Acked, rep.LoadWindow))
		return fmt.Sprintf("%d/s", v), v >= targetMixedRate
	})
	add("closed", fmt.Sprintf("backlog drained ≤ %s after the load", targetDrain), func(rep *report) (string, bool) {
		if rep.Missing > 0 || rep.Acked == 0 {
			return fmt.Sprintf("not drained within %s%s", rep.S.DrainTimeout, missing(rep)), false
		}
		return fmt.Sprintf("%.2fs (deliveries %.0f/s)", rep.DrainAfterLoad.Seconds(), rate(rep.Delivered, rep.E2EWindow)), rep.DrainAfterLoad <= targetDrain
	})
	add("open", fmt.Sprintf("≥ %d deliveries/s sustained", targetE2ERate), func(rep *report) (string, bool) {
		if rep.Open == nil {
			return "not an open loop", false
		}
		v := whole(rep.Open.Sustained)
		m := fmt.Sprintf("%d/s (offered %d/s, dropped %d, backlog at end %d%s)", v, rep.S.Rate, rep.Open.Pace.Dropped, rep.Open.BacklogAtEnd, missing(rep))
		return m, v >= targetE2ERate && rep.Open.Pace.Dropped == 0 && rep.Missing == 0
	})
	add("open", "end-to-end p99 ≤ "+targetE2EP99.String(), func(rep *report) (string, bool) {
		return ms(rep.E2ELat.P99) + missing(rep), rep.Delivered > 0 && rep.Missing == 0 && rep.E2ELat.P99 <= targetE2EP99
	})
	add("lone", "ingest → arrival p50 ≤ "+targetLoneP50.String(), func(rep *report) (string, bool) {
		l := rep.Lone
		if l == nil || l.Arrived == 0 {
			return "no lone event arrived", false
		}
		m := fmt.Sprintf("%s (p95 %s, %d events)", ms(l.ToArrival.P50), ms(l.ToArrival.P95), l.Arrived)
		if l.Stopped != "" {
			return m + ", stopped: " + l.Stopped, false
		}
		return m, l.ToArrival.P50 <= targetLoneP50
	})
	add("fairness", "team B delayed ≤ "+fairTarget.String()+" by A's slow endpoint", func(rep *report) (string, bool) {
		if rep.Fair == nil {
			return "not a fairness run", false
		}
		return rep.Fair.verdict()
	})

	// Memory and losses span several scenarios.
	var peak float64
	var peakIn string
	delivered, acked := 0, 0
	for _, r := range runs {
		if r.Rep == nil || r.Rep.Interrupted {
			continue
		}
		if r.S.subcommand() == "all" && r.Rep.RSS.Valid && r.Rep.RSS.PeakMB() > peak {
			peak, peakIn = r.Rep.RSS.PeakMB(), r.Kind
		}
		if r.Kind == "closed" || r.Kind == "open" {
			delivered, acked = delivered+r.Rep.Delivered, acked+r.Rep.Acked
		}
	}
	memRow := row{"hookrelay all, highest of the runs above", fmt.Sprintf("RSS ≤ %d MB", targetRSSMB), "not measured", false}
	if peakIn != "" {
		memRow.Measured, memRow.Pass = fmt.Sprintf("%.1f MB (%s)", peak, peakIn), peak <= targetRSSMB
	}
	lossRow := row{"all, closed and open loop", "every acknowledged event delivered",
		fmt.Sprintf("%d of %d", delivered, acked), acked > 0 && delivered == acked}
	return append(rows, memRow, lossRow)
}

// printSuite writes the summary table, in Markdown so it can be pasted.
func printSuite(w io.Writer, runs []suiteRun, rows []row, took time.Duration) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	version := "hookrelay"
	for _, r := range runs {
		if r.Rep != nil && r.Rep.Version != "" {
			version = r.Rep.Version
			break
		}
	}
	passed := 0
	for _, r := range rows {
		if r.Pass {
			passed++
		}
	}
	p("")
	p("issue 10 targets: `%s`, nproc %d, %s, suite took %s", version, runtime.NumCPU(), cpuModel(), took.Round(time.Second))
	p("")
	p("| scenario | target | measured | result |")
	p("| --- | --- | --- | --- |")
	for _, r := range rows {
		p("| %s | %s | %s | %s |", r.Scenario, r.Target, r.Measured, passFail(r.Pass))
	}
	p("")
	p("%d of %d targets met", passed, len(rows))
}
