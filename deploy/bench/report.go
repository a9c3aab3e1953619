package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything the bench prints.
type report struct {
	S           settings
	Postgres    string
	Version     string // `hookrelay version`, e.g. "hookrelay 573f25c-dirty"
	Passthrough []string

	Requests, Acked int
	NotAcked        map[string]int // status code or error class → count
	LoadWindow      time.Duration
	IngestLat       latency

	Delivered, Missing, Duplicates, NoID, SinkDistinct int
	E2EWindow                                          time.Duration // first ack → last arrival
	E2ELat                                             latency
	DrainAfterLoad                                     time.Duration
	Interrupted                                        bool
	RedisFlushed                                       bool // someone flushed Redis DB 14 during the run

	CPULoad, CPUDrain cpuUse
	Cost              costUse
	StmtNote          string
	Logs              map[string]int
	RSS               rssStats

	Open *openLoop       // BENCH_RATE: the schedule's numbers
	Lone *loneResult     // BENCH_MODE=lone
	Fair *fairnessResult // BENCH_MODE=fairness
}

// openLoop is what an open-loop run adds to the report.
type openLoop struct {
	Pace         paceStats
	Sustained    float64 // deliveries/s during the load, after its first second
	PerSecond    []int   // arrivals in each full second of that window
	BacklogAtEnd int     // acknowledged but not arrived when the last answer came
}

// warmUp is left out of the sustained delivery rate: the first arrivals
// come one end-to-end latency after the first send.
const warmUp = time.Second

// sustainedRate returns the arrivals per second in [start+warmUp, end)
// and the count in each full second of it. Windows shorter than two
// warm-ups are taken whole.
func sustainedRate(arrivals []time.Time, start, end time.Time) (float64, []int) {
	if end.Sub(start) >= 2*warmUp {
		start = start.Add(warmUp)
	}
	if !end.After(start) {
		return 0, nil
	}
	perSec := make([]int, int(end.Sub(start)/time.Second))
	n := 0
	for _, at := range arrivals {
		if at.Before(start) || !at.Before(end) {
			continue
		}
		n++
		if k := int(at.Sub(start) / time.Second); k < len(perSec) {
			perSec[k]++
		}
	}
	return rate(n, end.Sub(start)), perSec
}

// minMedian returns the smallest and the median (lower middle) of counts.
func minMedian(counts []int) (int, int) {
	if len(counts) == 0 {
		return 0, 0
	}
	c := slices.Clone(counts)
	slices.Sort(c)
	return c[0], c[(len(c)-1)/2]
}

// latency summarises a set of durations.
type latency struct{ P50, P95, P99, Max time.Duration }

// summarize sorts ds in place and returns its percentiles.
func summarize(ds []time.Duration) latency {
	slices.Sort(ds)
	return latency{percentile(ds, 50), percentile(ds, 95), percentile(ds, 99), percentile(ds, 100)}
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, ascending durations: the smallest value with at least p % of the
// values at or below it. It returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// buildReport joins the load records with the sink's arrivals.
// An event counts as missing when it has not arrived by the time the
// report is built (after the drain wait).
func buildReport(s settings, res *loadResult, sk *sink) *report {
	r := &report{S: s, Requests: len(res.Records), NotAcked: map[string]int{}, LoadWindow: res.End.Sub(res.Start)}
	var ingest, e2e []time.Duration
	var firstAck, lastArrival time.Time
	for _, x := range res.Records {
		ingest = append(ingest, x.Latency)
		if x.EventID == "" {
			r.NotAcked[x.failure()]++
			continue
		}
		r.Acked++
		if ack := x.Start.Add(x.Latency); firstAck.IsZero() || ack.Before(firstAck) {
			firstAck = ack
		}
		if at, ok := sk.arrival(x.EventID); ok {
			r.Delivered++
			e2e = append(e2e, at.Sub(x.Start))
			if at.After(lastArrival) {
				lastArrival = at
			}
		}
	}
	r.Missing = r.Acked - r.Delivered
	r.SinkDistinct, r.Duplicates, r.NoID = sk.counts()
	if res.Pace != nil {
		o := &openLoop{Pace: *res.Pace}
		var arrivals []time.Time
		for _, x := range res.Records {
			if x.EventID == "" {
				continue
			}
			at, ok := sk.arrival(x.EventID)
			if ok {
				arrivals = append(arrivals, at)
			}
			if !ok || at.After(res.End) {
				o.BacklogAtEnd++
			}
		}
		o.Sustained, o.PerSecond = sustainedRate(arrivals, res.Pace.Start, res.Pace.End)
		r.Open = o
	}
	r.IngestLat, r.E2ELat = summarize(ingest), summarize(e2e)
	if r.Delivered > 0 {
		r.E2EWindow = lastArrival.Sub(firstAck)
	}
	return r
}

// rate is n per second over d, 0 for an empty window.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func (l latency) String() string {
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
}

// print writes the report in the layout the README quotes.
func (r *report) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("hookrelay bench: `%s %s` + Postgres %s (db %s) + Redis db %d, all on 127.0.0.1", r.Version, r.S.subcommand(), r.Postgres, benchDB, redisDB)
	p("machine   nproc %d, %s, %s/%s, %s", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if r.Lone != nil || r.Fair != nil {
		if r.Lone != nil {
			r.printLone(p)
		} else {
			r.printFairness(p)
		}
		p("memory    %s", r.RSS)
		p("hookrelay log (warn and above): %s", countList(r.Logs))
		p("")
		return
	}
	switch {
	case r.Open != nil:
		p("config    mode %s, open loop %d/s (at most %d requests in flight), duration %s, max events %d, body %d B, drain timeout %s",
			r.S.Mode, r.S.Rate, r.S.MaxInFlight, r.S.Duration, r.S.MaxEvents, bodySize, r.S.DrainTimeout)
	default:
		p("config    mode %s, concurrency %d, duration %s, max events %d, body %d B, drain timeout %s",
			r.S.Mode, r.S.Concurrency, r.S.Duration, r.S.MaxEvents, bodySize, r.S.DrainTimeout)
	}
	r.printOverrides(p)
	if o := r.Open; o != nil {
		pw := o.Pace.End.Sub(o.Pace.Start)
		p("ingest    scheduled %d, sent %d, acknowledged %d, non-2xx/errors: %s", o.Pace.Scheduled, r.Requests, r.Acked, countList(r.NotAcked))
		p("          send rate %.0f/s of %d/s offered (%d sent in %.2fs); late (started >%s after schedule) %d, dropped (%d in flight) %d",
			rate(int(o.Pace.Started), pw), r.S.Rate, o.Pace.Started, pw.Seconds(), lateAfter, o.Pace.Late, r.S.MaxInFlight, o.Pace.Dropped)
		p("          latency from scheduled send %s", r.IngestLat)
	} else {
		p("ingest    requests %d, acknowledged %d, non-2xx/errors: %s", r.Requests, r.Acked, countList(r.NotAcked))
		p("          throughput %.0f req/s (%d requests in %.2fs)", rate(r.Requests, r.LoadWindow), r.Requests, r.LoadWindow.Seconds())
		p("          latency %s", r.IngestLat)
	}
	if r.S.Mode == "serve" {
		p("delivery  not measured (BENCH_MODE=serve: no worker, deliveries stay queued)")
	} else {
		r.printDelivery(p)
	}
	if r.RedisFlushed {
		p("WARNING   Redis db %d was flushed by another process during the run (is `make test` running?", redisDB)
		p("          its testenv takes DBs 1–15): queued deliveries were lost and only the sweeper")
		p("          (HOOKRELAY_SWEEP_GRACE 30s) recovered them, so delivery numbers are not representative")
	}
	r.printCPU(p)
	p("memory    %s", r.RSS)
	r.printCost(p)
	p("hookrelay log (warn and above): %s", countList(r.Logs))
	p("")
}

// printOverrides lists the HOOKRELAY_* variables passed through.
func (r *report) printOverrides(p func(string, ...any)) {
	if len(r.Passthrough) > 0 {
		p("          hookrelay overrides: %s", strings.Join(r.Passthrough, " "))
	}
}

// printDelivery writes the delivery lines of a BENCH_MODE=all run.
func (r *report) printDelivery(p func(string, ...any)) {
	p("delivery  delivered %d, missing %d, duplicates %d", r.Delivered, r.Missing, r.Duplicates)
	if r.NoID > 0 || r.SinkDistinct != r.Delivered {
		p("          sink saw %d distinct event ids, %d requests without webhook-id", r.SinkDistinct, r.NoID)
	}
	if o := r.Open; o != nil {
		lo, med := minMedian(o.PerSecond)
		p("          sustained %.0f deliveries/s during the load (after its first second; per second: min %d, median %d)", o.Sustained, lo, med)
		p("          end-to-end latency (scheduled send → arrival) %s", r.E2ELat)
		p("          backlog at load end %d (acknowledged, not yet arrived when the last answer came)", o.BacklogAtEnd)
	} else {
		p("          throughput %.0f deliveries/s (%d from first ack to last arrival, %.2fs)",
			rate(r.Delivered, r.E2EWindow), r.Delivered, r.E2EWindow.Seconds())
		p("          end-to-end latency (send → arrival) %s", r.E2ELat)
	}
	switch {
	case r.Interrupted:
		p("          INTERRUPTED: numbers cover a partial run")
	case r.Missing == 0:
		p("          backlog drained %.2fs after the load ended", r.DrainAfterLoad.Seconds())
	default:
		p("          %d acknowledged events still missing after %s", r.Missing, r.S.DrainTimeout)
	}
}

// printCPU writes the cores busy per process group.
func (r *report) printCPU(p func(string, ...any)) {
	if r.CPULoad.Valid {
		// A drain shorter than a second is below the tick resolution of /proc.
		drain := r.CPUDrain.Window >= time.Second
		head := fmt.Sprintf("cpu       cores busy on average    load %5.1fs", r.CPULoad.Window.Seconds())
		if drain {
			head += fmt.Sprintf("   drain %5.1fs", r.CPUDrain.Window.Seconds())
		}
		p("%s", head)
		for _, g := range cpuGroups {
			line := fmt.Sprintf("          %-26s %5.2f", g, r.CPULoad.Cores[g])
			if drain {
				line += fmt.Sprintf("         %5.2f", r.CPUDrain.Cores[g])
			}
			p("%s", line)
		}
		other := func(u cpuUse) float64 {
			v := u.Machine * float64(runtime.NumCPU())
			for _, g := range cpuGroups {
				v -= u.Cores[g]
			}
			return max(v, 0)
		}
		line := fmt.Sprintf("          %-26s %5.2f", "everything else", other(r.CPULoad))
		if drain {
			line += fmt.Sprintf("         %5.2f", other(r.CPUDrain))
		}
		p("%s", line)
		line = fmt.Sprintf("          %-26s %4.0f%%", "machine (all cores)", 100*r.CPULoad.Machine)
		if drain {
			line += fmt.Sprintf("         %4.0f%%", 100*r.CPUDrain.Machine)
		}
		p("%s", line)
	}
}

// countList formats counts as "503×12, timeout×3", largest first, or "none".
func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
