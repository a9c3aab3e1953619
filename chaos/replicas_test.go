package chaos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replica is one hookrelay process of TestReplicas, restartable.
type replica struct {
	role, name, log string
	env             []string
	p               *proc
	base            string // serve only
}

// TestReplicas runs hookrelay the way the Helm chart does: two `serve` and
// two `worker` processes on one PostgreSQL and one Redis. Two `migrate up`
// race at the start; 2,000 signed events are spread over both serves; one
// serve and one worker are SIGKILLed mid-load and restarted; two retention
// runs race while the workers run. Every acknowledged event must reach
// the sink (duplicates are counted and reported, none may be missing),
// every migration must be recorded once, and both retention runs must
// succeed (retention is idempotent: partitions IF NOT EXISTS, drops of
// what is expired; the sweepers absorb each other by task id).
//
// The delivery timeout is 2 s so that a delivery claimed by the killed
// worker waits out a 17 s lease, not the default 30 s; the test stays
// within about a minute after the build.
func TestReplicas(t *testing.T) {
	start := time.Now()
	b := newBox(t)
	s := &stack{t: t, b: b}
	built := make(chan error, 1)
	go func() { built <- s.build() }()
	s.redis = startRedis(b)
	s.pg = startPostgres(b)
	s.db = s.pg.open("hookrelay", "hookrelay")
	t.Cleanup(func() { _ = s.db.Close() })
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + b.root, "HOOKRELAY_ENV=local",
		"HOOKRELAY_DATABASE_URL=" + s.pg.dsn("hookrelay", "hookrelay"),
		"HOOKRELAY_REDIS_ADDR=" + s.redis.addr(),
		"HOOKRELAY_ENCRYPTION_KEYS=k1:" + base64.StdEncoding.EncodeToString(key),
		"HOOKRELAY_ALLOW_CIDRS=127.0.0.0/8",
		"HOOKRELAY_SWEEP_INTERVAL=" + sweepInterval.String(),
		"HOOKRELAY_SWEEP_GRACE=" + sweepGrace.String(),
		"HOOKRELAY_RETRY_SCHEDULE=" + retrySchedule,
		"HOOKRELAY_DELIVERY_TIMEOUT=2s",
		"HOOKRELAY_SHUTDOWN_TIMEOUT=5s",
		"HOOKRELAY_WORKER_CONCURRENCY=20",
		"HOOKRELAY_LOG_FORMAT=json",
	}

	// Two migrations at once (two Helm upgrades, or compose and a Job):
	// bun's lock table lets one apply; the other fails fast and a rerun
	// finds the schema current. Nothing is applied twice.
	var wg sync.WaitGroup
	outs, errs := make([]string, 2), make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], errs[i] = s.command("migrate", "up") }()
	}
	wg.Wait()
	if errs[0] != nil && errs[1] != nil {
		t.Fatalf("both concurrent migrations failed:\n%s\n%s", outs[0], outs[1])
	}
	for i := range 2 {
		t.Logf("concurrent migrate up #%d: err=%v: %s", i+1, errs[i], strings.TrimSpace(outs[i]))
	}
	if out, err := s.command("migrate", "up"); err != nil || !strings.Contains(out, "schema is current") {
		t.Fatalf("migrate up after the race: %v %s", err, out)
	}
	var applied, distinct int
	must(t, s.db.NewRaw("SELECT count(*), count(DISTINCT name) FROM bun_migrations").Scan(context.Background(), &applied, &distinct))
	files, _ := filepath.Glob("../migrations/*.up.sql")
	if applied != distinct || applied != len(files) {
		t.Fatalf("bun_migrations has %d rows, %d distinct, for %d migrations", applied, distinct, len(files))
	}

	out, err := s.command("admin", "bootstrap")
	if err != nil {
		t.Fatalf("admin bootstrap: %v\n%s", err, out)
	}
	tm, sm, im := tokenRe.FindStringSubmatch(out), sourceRe.FindStringSubmatch(out), ingestRe.FindStringSubmatch(out)
	if tm == nil || sm == nil || im == nil {
		t.Fatalf("admin bootstrap: no token, src_ id or ingest URL in:\n%s", out)
	}
	s.token, s.sourceID = tm[1], sm[1]
	ingestPath := im[1][strings.Index(im[1], "/in/"):]

	s.sink = newSink(t)
	var serves, workers []*replica
	for i := range 2 {
		port := freePort(t)
		serves = append(serves, &replica{role: "serve", name: fmt.Sprintf("serve%d", i+1),
			base: "http://127.0.0.1:" + strconv.Itoa(port),
			env:  []string{"HOOKRELAY_LISTEN=127.0.0.1:" + strconv.Itoa(port)}})
		workers = append(workers, &replica{role: "worker", name: fmt.Sprintf("worker%d", i+1)})
	}
	all := append(append([]*replica{}, serves...), workers...)
	for _, r := range all {
		r.log = filepath.Join(b.root, r.name+".log")
		r.start(t, s)
	}
	t.Cleanup(func() {
		for _, r := range all {
			r.p.kill()
			if t.Failed() {
				t.Logf("%s log tail:\n%s", r.name, tail(r.log, 15))
			}
		}
	})
	s.base = serves[0].base
	var ep struct {
		ID string `json:"id"`
	}
	must(t, s.api("/api/v1/endpoints", map[string]any{"url": s.sink.url + "/hook", "source_ids": []string{s.sourceID}}, &ep))
	var sec struct {
		Secrets []string `json:"secrets"`
	}
	must(t, s.api("/api/v1/sources/"+s.sourceID+"/secret/reveal", nil, &sec))
	if len(sec.Secrets) == 0 {
		t.Fatal("no source secret")
	}
	t.Logf("4 processes ready %s after start", time.Since(start).Round(time.Millisecond))

	// 950 events per serve over 8 s; at 3 s serve2 and worker1 die and
	// are restarted; then 50 more per serve, so the restarted serve is
	// shown taking traffic whatever the machine's speed.
	const perServe, after = 950, 50
	results := make([][]sent, 4)
	ctx := context.Background()
	load := func(i, slot, n int, d time.Duration) {
		results[slot] = runLoad(ctx, loadSpec{url: serves[i].base + ingestPath, secret: sec.Secrets[0],
			prefix: fmt.Sprintf("rep%d_%d", i+1, slot), events: n, concurrency: 8, duration: d})
	}
	for i := range serves {
		wg.Add(1)
		go func() { defer wg.Done(); load(i, i, perServe, 8*time.Second) }()
	}
	time.Sleep(3 * time.Second)
	serves[1].p.kill()
	workers[0].p.kill()
	t.Logf("SIGKILLed serve2 and worker1 at %s", time.Since(start).Round(time.Millisecond))
	// Two retention runs race each other and the workers' own.
	retention := make([]error, 2)
	var rwg sync.WaitGroup
	for i := range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			if out, err := s.command("maintenance", "run"); err != nil {
				retention[i] = fmt.Errorf("%v: %s", err, out)
			}
		}()
	}
	serves[1].start(t, s)
	workers[0].start(t, s)
	rwg.Wait()
	for i, err := range retention {
		if err != nil {
			t.Errorf("concurrent retention run #%d failed: %v", i+1, err)
		}
	}
	wg.Wait()
	load(0, 2, after, time.Second)
	load(1, 3, after, time.Second)

	var acked []string
	ackedAfterRestart := 0
	refused := 0
	for slot, rs := range results {
		for _, x := range rs {
			switch {
			case x.status/100 == 2 && x.eventID != "":
				acked = append(acked, x.eventID)
				if slot == 3 {
					ackedAfterRestart++
				}
			case x.status == 0 || x.status == 503:
				refused++ // the killed serve: the provider retries
			default:
				t.Errorf("unexpected answer to %s: %d %s", x.providerID, x.status, x.err)
			}
		}
	}
	if len(acked) < perServe || ackedAfterRestart != after {
		t.Fatalf("%d of %d events acknowledged, %d of %d by serve2 after its restart", len(acked), 2*(perServe+after),
			ackedAfterRestart, after)
	}
	// A task the killed worker held as active is only given back by asynq's
	// recoverer once its 30 s lease has expired, and the recoverer looks
	// every minute: up to ~90 s, plus the retry delay. The sweeper leaves
	// such a task alone (Redis says it is running), so wait past that bound.
	err = waitFor(150*time.Second, func() error {
		if n := s.sink.missing(acked); n > 0 {
			return fmt.Errorf("%d of %d acknowledged events not delivered", n, len(acked))
		}
		return nil
	})
	arr := s.sink.snapshot(acked)
	dups := 0
	for _, a := range arr {
		dups += max(a.ok-1, 0)
	}
	t.Logf("%d sent, %d acknowledged, %d refused while serve2 was down; %d delivered, %d duplicate copies; sweepers requeued %d+%d; %s total",
		2*(perServe+after), len(acked), refused, len(acked)-s.sink.missing(acked), dups,
		countInLog(workers[0].log, `"sweeper_requeued"`), countInLog(workers[1].log, `"sweeper_requeued"`),
		time.Since(start).Round(time.Millisecond))
	if err != nil {
		missing := missingIDs(s.sink, acked)
		for _, st := range deliveryStates(t, s.db, missing[:min(len(missing), 5)]) {
			t.Logf("not delivered: %s", st)
		}
		t.Fatalf("ACKNOWLEDGED EVENTS LOST: %v", err)
	}
	var runs int
	must(t, s.db.NewRaw("SELECT count(*) FROM bun_migrations").Scan(ctx, &runs))
	if runs != applied {
		t.Errorf("bun_migrations changed while replicas ran: %d rows, was %d", runs, applied)
	}
	checkRollingUpgrade(t, s, serves, ingestPath, sec.Secrets[0])
}

// checkRollingUpgrade plays the upgrade order the README gives, seen from
// the old release: the next release's (additive) migration is applied
// while these processes run; they keep ingesting and delivering, and a
// restarted old process still starts, because it checks only for the
// migrations it knows. Then the other direction: a schema missing a
// migration the binary knows makes /readyz fail and `serve` refuse to start.
func checkRollingUpgrade(t *testing.T, s *stack, serves []*replica, ingestPath, secret string) {
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := s.db.ExecContext(ctx, q, args...)
		must(t, err)
	}
	exec(`ALTER TABLE endpoints ADD COLUMN future_note text`)
	exec(`CREATE TABLE future_things (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`)
	exec(`INSERT INTO bun_migrations (name, group_id, migrated_at)
		VALUES ('99990101000000_future', (SELECT max(group_id) + 1 FROM bun_migrations), now())`)
	serves[1].p.kill()
	serves[1].start(t, s) // fails the test if the old binary refuses the newer schema
	var acked []string
	for i, r := range serves {
		for _, x := range runLoad(ctx, loadSpec{url: r.base + ingestPath, secret: secret,
			prefix: fmt.Sprintf("upg%d", i+1), events: 50, concurrency: 4, duration: time.Second}) {
			if x.status/100 != 2 || x.eventID == "" {
				t.Fatalf("after the newer migration, %s answered %d %s", r.name, x.status, x.err)
			}
			acked = append(acked, x.eventID)
		}
	}
	if err := waitFor(30*time.Second, func() error {
		if n := s.sink.missing(acked); n > 0 {
			return fmt.Errorf("%d of %d events ingested on the newer schema not delivered", n, len(acked))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Behind: drop the record of the newest migration this binary knows.
	var last string
	must(t, s.db.NewRaw(`SELECT name FROM bun_migrations WHERE name <> '99990101000000_future' ORDER BY name DESC LIMIT 1`).
		Scan(ctx, &last))
	exec(`DELETE FROM bun_migrations WHERE name = ?`, last)
	if err := waitFor(10*time.Second, func() error {
		if s2 := (stack{base: serves[0].base}); s2.ready() == nil {
			return errors.New("/readyz still 200")
		}
		return nil
	}); err != nil {
		t.Errorf("serve1 stays ready on a schema that is behind: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := osexec.CommandContext(cctx, s.bin, "serve")
	cmd.Env = append(append([]string{}, s.env...), "HOOKRELAY_LISTEN=127.0.0.1:"+strconv.Itoa(freePort(t)))
	out, err := cmd.CombinedOutput()
	if err == nil || cctx.Err() != nil || !strings.Contains(string(out), "schema is behind, pending "+last) {
		t.Errorf("serve on a schema missing %s: err %v, output:\n%s", last, err, out)
	}
	exec(`INSERT INTO bun_migrations (name, group_id, migrated_at) VALUES (?, 1, now())`, last)
	t.Logf("rolling upgrade: old processes served %d events on the newer schema; serve refused a schema missing %s", len(acked), last)
}

// start spawns the replica and waits until it is ready: /readyz for
// serve, the worker_started line for a worker.
func (r *replica) start(t *testing.T, s *stack) {
	t.Helper()
	before := countInLog(r.log, `"worker_started"`)
	p, err := s.b.spawn(r.name, r.log, append(append([]string{}, s.env...), r.env...), s.bin, r.role)
	must(t, err)
	r.p = p
	err = waitFor(30*time.Second, func() error {
		if p.exited() {
			return fmt.Errorf("%s exited:\n%s", r.name, tail(r.log, 20))
		}
		if r.role == "serve" {
			s2 := *s
			s2.base = r.base
			return s2.ready()
		}
		if countInLog(r.log, `"worker_started"`) <= before {
			return fmt.Errorf("%s has not logged worker_started", r.name)
		}
		return nil
	})
	must(t, err)
}
