package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// mode is the size of a run. The short one runs in `go test ./...` (CI);
// CHAOS_LONG=1 (`make chaos`) runs the long one.
type mode struct {
	name        string
	events      int           // per scenario
	concurrency int           // requests in flight at most
	load        time.Duration // the events are spread over it
	drain       time.Duration // after the load, how long deliveries may take
	faults      []float64     // when to inject, as fractions of load
}

func currentMode() mode {
	m := mode{name: "short", events: 300, concurrency: 8, load: 8 * time.Second, drain: 60 * time.Second,
		faults: []float64{0.3}}
	if os.Getenv("CHAOS_LONG") != "" {
		m = mode{name: "long", events: 3000, concurrency: 16, load: 60 * time.Second, drain: 180 * time.Second,
			faults: []float64{0.2, 0.5, 0.8}}
	}
	if n, err := strconv.Atoi(os.Getenv("CHAOS_EVENTS")); err == nil && n > 0 {
		m.events = n
	}
	if d, err := time.ParseDuration(os.Getenv("CHAOS_LOAD")); err == nil && d > 0 {
		m.load = d
	}
	return m
}

// scenario is one kind of fault.
type scenario struct {
	name   string
	inject func(t *testing.T, s *stack) string // does the damage, returns what it did
}

var scenarios = []scenario{
	{"worker-kill9", func(t *testing.T, s *stack) string {
		s.worker.kill()
		time.Sleep(time.Second)
		s.startWorker(t)
		return "worker SIGKILLed, restarted after 1s"
	}},
	{"redis-wipe", func(t *testing.T, s *stack) string {
		must(t, s.redis.wipe(time.Second))
		return "Redis SIGKILLed, data dir deleted, empty Redis back after 1s"
	}},
	{"postgres-outage", func(t *testing.T, s *stack) string {
		t0 := time.Now()
		must(t, s.pg.stop("immediate"))
		time.Sleep(3 * time.Second)
		must(t, s.pg.start())
		return fmt.Sprintf("Postgres stopped (immediate = crash), back after %s", time.Since(t0).Round(100*time.Millisecond))
	}},
}

// TestChaos runs every scenario against one hookrelay stack, one after the
// other, each with its own load and its own checks, then prints a table.
func TestChaos(t *testing.T) {
	m := currentMode()
	start := time.Now()
	s := newStack(t)
	var rows []row
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := runScenario(t, s, m, sc)
			rows = append(rows, r)
		})
		if t.Failed() && os.Getenv("CHAOS_CONTINUE") == "" {
			// The stack may be broken: later scenarios would only add noise.
			if s.ready() != nil {
				break
			}
		}
	}
	if os.Getenv("CHAOS_LONG") != "" {
		settle(t, s, rows)
	}
	checkNothingUnexpected(t, s, rows)
	t.Logf("chaos %s run (%d events per scenario over %s, %d in flight, faults at %v of the load) in %s:\n%s",
		m.name, m.events, m.load, m.concurrency, m.faults, time.Since(start).Round(time.Second), table(rows))
}

// row is one scenario's outcome, a line of the summary table.
type row struct {
	name                      string
	faults                    []string
	sent, acked, refused503   int
	transport, other          int
	delivered, duplicates     int
	scripted500               int // first copies the sink failed on purpose
	unsettled                 int // deliveries of acked events not 'succeeded' in Postgres when the drain ended
	settledDups               int // duplicates once every delivery settled (long run), -1 if not waited for
	ackedAfter                int // acknowledged after the last fault was over
	stalled                   int // acked, durable, waiting out a crash lease when the drain ended
	lost                      int // acked and not delivered, not explained by a lease
	storedRefused             int // refused (503 / transport error) and stored anyway
	maxLag, p99Lag, p50Lag    time.Duration
	drained                   time.Duration // load end → last acked event delivered
	sweeperRequeued, taskErrs int
	acks                      []sent
	ackedIDs                  []string
}

// unsettled counts the deliveries of the events that are not succeeded.
func unsettled(t *testing.T, db *bun.DB, eventIDs []string) int {
	if len(eventIDs) == 0 {
		return 0
	}
	var n int64
	err := retry(func() (err error) {
		n, err = db.NewSelect().Table("deliveries").Where("event_id IN (?)", bun.In(eventIDs)).
			Where("status <> 'succeeded'").Count(context.Background())
		return err
	})
	if err != nil {
		t.Errorf("count unsettled deliveries: %v", err)
	}
	return int(n)
}

// settle (long run) waits until every delivery of every acknowledged event
// has succeeded in Postgres, leases of killed workers included, so that
// the duplicates those leases cause are counted too.
func settle(t *testing.T, s *stack, rows []row) {
	var all []string
	for _, r := range rows {
		all = append(all, r.ackedIDs...)
	}
	if len(all) == 0 {
		return
	}
	var until time.Time
	if err := retry(func() error {
		return s.db.NewRaw("SELECT coalesce(max(next_attempt_at), now()) FROM deliveries WHERE status = 'pending'").
			Scan(context.Background(), &until)
	}); err != nil {
		t.Errorf("settle: %v", err)
		return
	}
	limit := min(max(time.Until(until), 0)+sweepGrace+2*sweepInterval+20*time.Second, 5*time.Minute)
	t.Logf("settle: waiting up to %s for every delivery to succeed (latest lease %s)", limit.Round(time.Second), until.Format(time.TimeOnly))
	start := time.Now()
	err := waitFor(limit, func() error {
		if n := unsettled(t, s.db, all); n > 0 {
			return fmt.Errorf("%d deliveries not succeeded", n)
		}
		return nil
	})
	if err != nil {
		t.Errorf("settle: %v", err)
	} else {
		t.Logf("settle: all deliveries succeeded after %s more", time.Since(start).Round(time.Second))
	}
	for i := range rows {
		got := s.sink.snapshot(rows[i].ackedIDs)
		d := 0
		for _, a := range got {
			d += max(a.ok-1, 0)
		}
		rows[i].settledDups = d
	}
}

func runScenario(t *testing.T, s *stack, m mode, sc scenario) row {
	r := row{name: sc.name}
	if err := waitFor(30*time.Second, s.ready); err != nil {
		t.Fatalf("stack not ready before %s: %v", sc.name, err)
	}
	sweepBefore := sumLogField(s.worker.log, "sweeper_requeued", "count")
	errsBefore := countInLog(s.worker.log, `"task_failed"`)
	ctx, cancel := context.WithTimeout(context.Background(), m.load+3*time.Minute)
	defer cancel()
	spec := loadSpec{url: s.ingestURL, secret: s.secret, prefix: strings.ReplaceAll(sc.name, "-", "") + strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
		events: m.events, concurrency: m.concurrency, duration: m.load}
	done := make(chan []sent, 1)
	loadStart := time.Now()
	go func() { done <- runLoad(ctx, spec) }()
	var faultEnd time.Time
	for _, f := range m.faults {
		time.Sleep(time.Until(loadStart.Add(time.Duration(f * float64(m.load)))))
		at := time.Since(loadStart)
		what := sc.inject(t, s)
		faultEnd = time.Now()
		r.faults = append(r.faults, fmt.Sprintf("at %s: %s", at.Round(100*time.Millisecond), what))
		t.Logf("%s: fault at %s: %s", sc.name, at.Round(100*time.Millisecond), what)
	}
	results := <-done
	loadEnd := time.Now()
	t.Logf("%s: load of %d events took %s", sc.name, len(results), loadEnd.Sub(loadStart).Round(100*time.Millisecond))

	var ackedIDs []string
	var refused []string // provider ids of events that got a 503 or no answer
	for _, x := range results {
		r.sent++
		switch {
		case x.status/100 == 2 && x.eventID != "":
			r.acked++
			r.acks = append(r.acks, x)
			ackedIDs = append(ackedIDs, x.eventID)
		case x.status == 503:
			r.refused503++
			refused = append(refused, x.providerID)
		case x.status == 0:
			r.transport++
			refused = append(refused, x.providerID)
		default:
			r.other++
			if r.other <= 5 {
				t.Errorf("%s: unexpected answer to %s: %d %s", sc.name, x.providerID, x.status, x.err)
			}
		}
	}
	for _, x := range r.acks {
		if x.at.After(faultEnd) {
			r.ackedAfter++
		}
	}
	if r.ackedAfter == 0 {
		t.Errorf("%s: no event sent after the last fault was acknowledged: hookrelay did not recover during the load", sc.name)
	}

	// Drain: wait for every acknowledged event at the sink.
	_ = waitFor(m.drain, func() error {
		if n := s.sink.missing(ackedIDs); n > 0 {
			return fmt.Errorf("%d acknowledged events not delivered", n)
		}
		return nil
	})
	missing := missingIDs(s.sink, ackedIDs)
	if len(missing) > 0 && os.Getenv("CHAOS_LONG") != "" {
		// A delivery claimed by a worker that was then killed waits out its
		// lease; the long run waits for it to prove it is delivered.
		if until := leaseEnd(t, s.db, missing); !until.IsZero() {
			limit := min(time.Until(until)+sweepGrace+2*sweepInterval+15*time.Second, 5*time.Minute)
			t.Logf("%s: %d deliveries wait out a crash lease until %s; waiting %s more", sc.name, len(missing),
				until.Format(time.TimeOnly), limit.Round(time.Second))
			_ = waitFor(limit, func() error {
				if n := s.sink.missing(ackedIDs); n > 0 {
					return fmt.Errorf("%d acknowledged events not delivered", n)
				}
				return nil
			})
			missing = missingIDs(s.sink, ackedIDs)
		}
	}

	arrivals := s.sink.snapshot(ackedIDs)
	var lastArrival time.Time
	var lags []time.Duration
	for _, x := range r.acks {
		a, ok := arrivals[x.eventID]
		if !ok || a.ok == 0 {
			continue
		}
		r.delivered++
		r.duplicates += a.ok - 1
		r.scripted500 += a.failed
		if a.sum != x.sum || a.badBody {
			t.Errorf("%s: event %s (%s) was not forwarded byte for byte", sc.name, x.eventID, x.providerID)
		}
		lags = append(lags, a.firstOK.Sub(x.acked))
		if a.firstOK.After(lastArrival) {
			lastArrival = a.firstOK
		}
	}
	if len(lags) > 0 {
		slices.Sort(lags)
		r.maxLag, r.p99Lag, r.p50Lag = lags[len(lags)-1], lags[len(lags)*99/100], lags[len(lags)/2]
	}
	if lastArrival.After(loadEnd) {
		r.drained = lastArrival.Sub(loadEnd)
	}

	// Acknowledged but not delivered: explain each from Postgres.
	if len(missing) > 0 {
		for _, st := range deliveryStates(t, s.db, missing) {
			switch {
			case st.leased():
				r.stalled++
				t.Logf("%s: STALLED (durable, not lost): event %s, delivery %s claimed for attempt %d by a worker that died; "+
					"its lease runs until %s, then the sweeper re-sends it", sc.name, st.EventID, st.DeliveryID, st.Attempts,
					st.NextAttemptAt.Format(time.TimeOnly))
			default:
				r.lost++
				t.Errorf("%s: ACKNOWLEDGED EVENT NOT DELIVERED within %s: %s", sc.name, m.drain, st)
			}
		}
	}
	if r.stalled > 0 && os.Getenv("CHAOS_LONG") != "" {
		t.Errorf("%s: %d leased deliveries still not delivered after their lease ended", sc.name, r.stalled)
	}

	// Refused events must not be stored.
	if len(refused) > 0 {
		var stored []string
		err := retry(func() error {
			stored = nil
			return s.db.NewRaw("SELECT provider_event_id FROM events WHERE source_id = ? AND provider_event_id IN (?)",
				s.sourceID, bun.In(refused)).Scan(context.Background(), &stored)
		})
		if err != nil {
			t.Errorf("%s: query refused events: %v", sc.name, err)
		}
		r.storedRefused = len(stored)
		for i, id := range stored {
			if i < 10 {
				t.Errorf("%s: event %s was refused (503 or no answer) but is stored", sc.name, id)
			}
		}
	}
	r.ackedIDs = ackedIDs
	r.unsettled = unsettled(t, s.db, ackedIDs)
	r.settledDups = -1
	r.sweeperRequeued = sumLogField(s.worker.log, "sweeper_requeued", "count") - sweepBefore
	r.taskErrs = countInLog(s.worker.log, `"task_failed"`) - errsBefore
	return r
}

// checkNothingUnexpected fails if the sink received an event that no
// scenario had acknowledged (a refused event that was stored and sent).
func checkNothingUnexpected(t *testing.T, s *stack, rows []row) {
	known := map[string]bool{}
	for _, r := range rows {
		for _, x := range r.acks {
			known[x.eventID] = true
		}
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	for id := range s.sink.got {
		if !known[id] {
			t.Errorf("the sink received event %q that was never acknowledged", id)
		}
	}
}

func missingIDs(s *sink, ids []string) []string {
	got := s.snapshot(ids)
	var out []string
	for _, id := range ids {
		if a, ok := got[id]; !ok || a.ok == 0 {
			out = append(out, id)
		}
	}
	return out
}

// deliveryState is what Postgres says about an undelivered event.
type deliveryState struct {
	EventID       string     `bun:"event_id"`
	Stored        bool       `bun:"stored"`
	DeliveryID    string     `bun:"delivery_id"`
	Status        string     `bun:"status"`
	Attempts      int        `bun:"attempts"`
	Recorded      int        `bun:"recorded"`
	NextAttemptAt *time.Time `bun:"next_attempt_at"`
	LastError     string     `bun:"last_error"`
}

// leased: a worker claimed an attempt (attempts counted) but no attempt
// row was written, and the claim's lease has not expired yet.
func (d deliveryState) leased() bool {
	return d.Stored && d.Status == "pending" && d.Attempts > d.Recorded && d.NextAttemptAt != nil &&
		d.NextAttemptAt.After(time.Now())
}

func (d deliveryState) String() string {
	if !d.Stored {
		return fmt.Sprintf("event %s: NO EVENT ROW IN POSTGRES (lost)", d.EventID)
	}
	if d.DeliveryID == "" {
		return fmt.Sprintf("event %s: stored but has NO DELIVERY ROW", d.EventID)
	}
	next := "-"
	if d.NextAttemptAt != nil {
		next = d.NextAttemptAt.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("event %s delivery %s: status %s, attempts claimed %d, recorded %d, next_attempt_at %s, last_error %q",
		d.EventID, d.DeliveryID, d.Status, d.Attempts, d.Recorded, next, d.LastError)
}

func deliveryStates(t *testing.T, db *bun.DB, eventIDs []string) []deliveryState {
	var out []deliveryState
	err := retry(func() error {
		out = nil
		return db.NewRaw(`SELECT x.id AS event_id, e.id IS NOT NULL AS stored, coalesce(d.id, '') AS delivery_id,
			coalesce(d.status, '') AS status, coalesce(d.attempts, 0) AS attempts,
			(SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS recorded,
			d.next_attempt_at, coalesce(d.last_error, '') AS last_error
		FROM unnest(?::text[]) AS x(id)
		LEFT JOIN events e ON e.id = x.id
		LEFT JOIN deliveries d ON d.event_id = x.id
		ORDER BY x.id`, pgArray(eventIDs)).Scan(context.Background(), &out)
	})
	if err != nil {
		t.Errorf("query delivery states: %v", err)
		for _, id := range eventIDs {
			out = append(out, deliveryState{EventID: id, Stored: true, Status: "unknown (query failed)"})
		}
	}
	return out
}

// leaseEnd is the latest lease among the undelivered events' claimed
// deliveries, or zero if none of them is leased.
func leaseEnd(t *testing.T, db *bun.DB, eventIDs []string) time.Time {
	var until time.Time
	for _, st := range deliveryStates(t, db, eventIDs) {
		if st.leased() && st.NextAttemptAt.After(until) {
			until = *st.NextAttemptAt
		}
	}
	return until
}

// retry runs a check query up to five times: the test's own connections
// to Postgres break when the postgres-outage scenario restarts it.
func retry(q func() error) error {
	var err error
	for range 5 {
		if err = q(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// sumLogField adds up a numeric field of the JSON log lines with msg.
func sumLogField(path, msg, field string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sum := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"`+msg+`"`) {
			continue
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["msg"] == msg {
			if v, ok := m[field].(float64); ok {
				sum += int(v)
			}
		}
	}
	return sum
}

// table renders the rows as a Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| scenario | sent | acked (2xx) | acked after fault | 503 | transport errors | other | delivered | duplicates | stalled by lease | lost | refused but stored | scripted 500s | lag p50 | lag p99 | lag max | drained after load | unsettled at drain end | duplicates once settled | sweeper re-queued | task errors |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	for _, r := range rows {
		settled := "not waited"
		if r.settledDups >= 0 {
			settled = strconv.Itoa(r.settledDups)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d | %s | %d | %d |\n",
			r.name, r.sent, r.acked, r.ackedAfter, r.refused503, r.transport, r.other, r.delivered, r.duplicates, r.stalled, r.lost,
			r.storedRefused, r.scripted500, ms(r.p50Lag), ms(r.p99Lag), ms(r.maxLag), ms(r.drained), r.unsettled, settled, r.sweeperRequeued, r.taskErrs)
	}
	for _, r := range rows {
		for _, f := range r.faults {
			fmt.Fprintf(&b, "\n- %s %s", r.name, f)
		}
	}
	return b.String()
}

// pgArray renders ids as a Postgres text array literal (ids are
// [A-Za-z0-9_] only, checked).
func pgArray(ids []string) string {
	for _, id := range ids {
		if strings.ContainsAny(id, `{},"\ `) {
			panic("pgArray: unexpected id " + id)
		}
	}
	return "{" + strings.Join(ids, ",") + "}"
}
