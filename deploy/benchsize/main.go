// Command benchsize is `make bench-size`: the dashboard and the API at size.
// It seeds a scratch database (hookrelay_size) with BENCH_SIZE_EVENTS
// events (10 million by default: 70% in team_size, 10% in each of three
// other teams, spread over the last 30 days' partitions, with deliveries
// and attempts; `hookrelay admin seed`) once, and reuses it on later runs.
// Then it serves the real API and dashboard (the same Fiber app as
// `hookrelay serve`) on a loopback port and times BENCH_SIZE_N sequential
// requests of each kind (events list, each filter, the next page by
// cursor, event detail, delivery detail with attempts), through the API
// with a token and through the dashboard with a session, and prints p50,
// p95 and max per kind.
//
// Seeding 10 M events takes about an hour on a busy 2-core machine;
// BENCH_SIZE_EVENTS=1000000 gives a quicker, smaller run (a database
// seeded for more is reused as it is). Knobs: BENCH_SIZE_DSN
// (postgres://postgres@127.0.0.1:5432/hookrelay_size), BENCH_SIZE_ADMIN_DSN
// (a connection allowed to create that database), BENCH_SIZE_EVENTS,
// BENCH_SIZE_N (50), BENCH_SIZE_DIR (.local/bench-size: the encryption key
// of the seeded sources). Redis (127.0.0.1:6379, DB 13) is only connected,
// never written: nothing here enqueues.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
)

const mainTeam = "team_size"

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench-size:", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context) error {
	dsn := env("BENCH_SIZE_DSN", "postgres://postgres@127.0.0.1:5432/hookrelay_size?sslmode=disable")
	total, err := strconv.Atoi(env("BENCH_SIZE_EVENTS", "10000000"))
	if err != nil || total < 1000 {
		return fmt.Errorf("BENCH_SIZE_EVENTS: want a number ≥ 1000")
	}
	n, err := strconv.Atoi(env("BENCH_SIZE_N", "50"))
	if err != nil || n < 1 {
		return fmt.Errorf("BENCH_SIZE_N: want a positive number")
	}
	dir := env("BENCH_SIZE_DIR", ".local/bench-size")
	if err := ensureDatabase(ctx, dsn); err != nil {
		return err
	}
	// The seed's statements and the counts below may outlast the serving
	// pool's 30 s read timeout on a busy machine: a pool of our own.
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithReadTimeout(10*time.Minute),
		pgdriver.WithWriteTimeout(time.Minute)))
	db := bun.NewDB(sqldb, pgdialect.New())
	defer db.Close()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	box, err := loadKey(dir)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: 13})
	defer rdb.Close()
	ropt := asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: 13}
	aq, insp := asynq.NewClient(ropt), asynq.NewInspector(ropt)
	defer aq.Close()
	defer insp.Close()
	st := store.New(db)
	rel := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: aq, Inspector: insp}, relay.Options{BcryptCost: 4, Version: "bench-size"})

	plan := []struct {
		team   string
		events int
	}{{mainTeam, total * 7 / 10}, {"team_size_b", total / 10}, {"team_size_c", total / 10}, {"team_size_d", total / 10}}
	for _, p := range plan {
		var have int
		if err := db.NewRaw("SELECT count(*) FROM events WHERE team_id = ?", p.team).Scan(ctx, &have); err != nil {
			return err
		}
		if have >= p.events*99/100 {
			fmt.Printf("%s: %d events (seeded before)\n", p.team, have)
			continue
		}
		start, last := time.Now(), time.Now()
		fmt.Printf("%s: %d events, seeding %d more…\n", p.team, have, p.events-have)
		err := rel.Seed(ctx, relay.SeedOptions{TeamID: p.team, Events: p.events - have, Progress: func(done int) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				fmt.Printf("  %d/%d (%s)\n", done, p.events-have, time.Since(start).Round(time.Second))
			}
		}})
		if err != nil {
			return err
		}
	}
	var events, deliveries, attempts, partitions int64
	_ = db.NewRaw(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries),
		(SELECT count(*) FROM delivery_attempts), (SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass)`).
		Scan(ctx, &events, &deliveries, &attempts, &partitions)
	var size string
	_ = db.NewRaw("SELECT pg_size_pretty(pg_database_size(current_database()))").Scan(ctx, &size)
	fmt.Printf("database: %d events in %d partitions, %d deliveries, %d attempts, %s\n", events, partitions, deliveries, attempts, size)

	fx, err := fixtures(ctx, db, rel, n)
	if err != nil {
		return err
	}
	dash := dashboard.New(dashboard.Deps{Relay: rel, PublicURL: "http://127.0.0.1", InsecureCookies: true,
		Gate: delivery.NewGate(rdb, delivery.GateOptions{})})
	app := api.New(api.Deps{Relay: rel, MaxBodyBytes: 1 << 20, PublicURL: "http://127.0.0.1", Mount: dash.Mount, NoMetricsRoute: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	fmt.Printf("\n%d requests each, sequential, after 3 warm-up requests; team %s (%d%% of the events)\n\n", n, mainTeam, 70)
	fmt.Println("| surface | request | p50 ms | p95 ms | max ms |")
	fmt.Println("| --- | --- | ---: | ---: | ---: |")
	worst := time.Duration(0)
	for _, c := range cases(fx) {
		var ds []time.Duration
		for i := -3; i < n; i++ {
			path := c.path(max(i, 0))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			if c.api {
				req.Header.Set("Authorization", "Bearer "+fx.token)
			} else {
				req.Header.Set("Cookie", "hookrelay_session="+fx.session)
			}
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			el := time.Since(t0)
			if resp.StatusCode != c.status {
				return fmt.Errorf("%s: status %d, want %d: %.300s", path, resp.StatusCode, c.status, body)
			}
			if i >= 0 {
				ds = append(ds, el)
			}
		}
		slices.Sort(ds)
		p95 := ds[(len(ds)*95+99)/100-1]
		worst = max(worst, p95)
		surface := "dashboard"
		if c.api {
			surface = "API"
		}
		fmt.Printf("| %s | %s | %.1f | %.1f | %.1f |\n", surface, c.name, ms(ds[len(ds)/2]), ms(p95), ms(ds[len(ds)-1]))
	}
	fmt.Printf("\nworst p95: %.1f ms (target ≤ 100 ms)\n", ms(worst))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fix is what the requests name: a token, a session, and samples of the
// main team's rows spread over the whole retention window.
type fix struct {
	token, session string
	sourceID       string
	endpointID     string
	eventIDs       []string // one per request
	deliveryIDs    []string // failed ones (three attempts) and succeeded ones, alternating
	providerIDs    []string
	days           []time.Time // a random hour's start, per request
}

func fixtures(ctx context.Context, db *bun.DB, rel *relay.Relay, n int) (*fix, error) {
	f := &fix{}
	a := relay.Actor{TeamID: mainTeam, Kind: "cli", ID: "bench-size"}
	tok, _, err := rel.CreateToken(ctx, a, "bench-size", []string{"read"})
	if err != nil {
		return nil, err
	}
	f.token = tok
	email := "bench-size-" + strings.ToLower(store.NewID("u")) + "@example.test"
	u, err := rel.CreateUser(ctx, relay.SystemActor(mainTeam), email, "", "correct horse battery "+store.NewID("pw"), mainTeam, "owner")
	if err != nil {
		return nil, err
	}
	f.session = "hrs_" + strings.ToLower(store.NewID("bench"))
	now := time.Now()
	team := mainTeam
	err = rel.Store().CreateSession(ctx, &store.Session{Hash: store.HashToken(f.session), ID: store.NewID("ses"), UserID: u.ID,
		TeamID: &team, CSRFToken: strings.Repeat("c", 43), IP: "127.0.0.1", UserAgent: "bench-size", CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		return nil, err
	}
	if err := db.NewRaw("SELECT id FROM sources WHERE team_id = ? ORDER BY id LIMIT 1", mainTeam).Scan(ctx, &f.sourceID); err != nil {
		return nil, fmt.Errorf("a source of %s: %w", mainTeam, err)
	}
	if err := db.NewRaw("SELECT id FROM endpoints WHERE team_id = ? ORDER BY id LIMIT 1", mainTeam).Scan(ctx, &f.endpointID); err != nil {
		return nil, fmt.Errorf("an endpoint of %s: %w", mainTeam, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for len(f.eventIDs) < n {
		at := now.Add(-time.Duration(rng.Int64N(int64(29 * 24 * time.Hour))))
		var row struct {
			ID  string `bun:"id"`
			PID string `bun:"provider_event_id"`
		}
		err := db.NewRaw(`(SELECT id, provider_event_id FROM events WHERE team_id = ? AND id >= ? ORDER BY id LIMIT 1)
			UNION ALL (SELECT id, provider_event_id FROM events WHERE team_id = ? ORDER BY id LIMIT 1) LIMIT 1`,
			mainTeam, store.NewIDAt("evt", at)[:14], mainTeam).Scan(ctx, &row)
		if err != nil {
			return nil, fmt.Errorf("sample events: %w", err)
		}
		var dl string
		status := []string{"failed", "succeeded"}[len(f.eventIDs)%2]
		err = db.NewRaw(`SELECT d.id FROM deliveries d WHERE d.team_id = ? AND d.status = ? AND d.id >= ? ORDER BY d.id LIMIT 1`,
			mainTeam, status, "dlv_"+row.ID[4:14]).Scan(ctx, &dl)
		if err != nil {
			return nil, fmt.Errorf("sample deliveries: %w", err)
		}
		f.eventIDs, f.providerIDs, f.deliveryIDs = append(f.eventIDs, row.ID), append(f.providerIDs, row.PID), append(f.deliveryIDs, dl)
		t, _ := store.IDTime(row.ID)
		f.days = append(f.days, t.Truncate(time.Hour))
	}
	return f, nil
}

type benchCase struct {
	name   string
	api    bool
	status int
	path   func(i int) string
}

func cases(f *fix) []benchCase {
	q := func(path string, kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return path + "?" + v.Encode()
	}
	rare := store.SeedEventTypes[len(store.SeedEventTypes)-1]
	var out []benchCase
	for _, s := range []struct {
		api                                      bool
		list, source, typ, since, until, dateFmt string
	}{
		{true, "/api/v1/events", "source_id", "event_type", "since", "until", time.RFC3339},
		{false, "/events", "source", "type", "since", "until", "2006-01-02T15:04"},
	} {
		s := s
		out = append(out,
			benchCase{"events, first page", s.api, 200, func(int) string { return s.list }},
			benchCase{"status=failed", s.api, 200, func(int) string { return q(s.list, "status", "failed") }},
			benchCase{"status=pending", s.api, 200, func(int) string { return q(s.list, "status", "pending") }},
			benchCase{"status=succeeded", s.api, 200, func(int) string { return q(s.list, "status", "succeeded") }},
			benchCase{"status=cancelled (none)", s.api, 200, func(int) string { return q(s.list, "status", "cancelled") }},
			benchCase{"type (30% of events)", s.api, 200, func(int) string { return q(s.list, s.typ, store.SeedEventTypes[0]) }},
			benchCase{"type (0.1%: " + rare + ")", s.api, 200, func(int) string { return q(s.list, s.typ, rare) }},
			benchCase{"source", s.api, 200, func(int) string { return q(s.list, s.source, f.sourceID) }},
			benchCase{"time range (an hour)", s.api, 200, func(i int) string {
				return q(s.list, s.since, f.days[i].Format(s.dateFmt), s.until, f.days[i].Add(time.Hour).Format(s.dateFmt))
			}},
			benchCase{"next page (cursor)", s.api, 200, func(i int) string { return q(s.list, "cursor", f.eventIDs[i]) }},
			benchCase{"status=failed, next page", s.api, 200, func(i int) string { return q(s.list, "status", "failed", "cursor", f.eventIDs[i]) }},
		)
		if s.api {
			out = append(out,
				benchCase{"event detail", true, 200, func(i int) string { return "/api/v1/events/" + f.eventIDs[i] }},
				benchCase{"delivery detail with attempts", true, 200, func(i int) string { return "/api/v1/deliveries/" + f.deliveryIDs[i] }})
		} else {
			out = append(out,
				benchCase{"endpoint", false, 200, func(int) string { return q("/events", "endpoint", f.endpointID) }},
				benchCase{"provider event id search", false, 303, func(i int) string { return q("/events", "id", f.providerIDs[i]) }},
				benchCase{"event id search", false, 303, func(i int) string { return q("/events", "id", f.eventIDs[i]) }},
				benchCase{"event detail", false, 200, func(i int) string { return "/events/" + f.eventIDs[i] }},
				benchCase{"delivery detail with attempts", false, 200, func(i int) string { return "/deliveries/" + f.deliveryIDs[i] }})
		}
	}
	return out
}

// ensureDatabase creates the scratch database when it is missing.
func ensureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("BENCH_SIZE_DSN: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	adminDSN := env("BENCH_SIZE_ADMIN_DSN", admin.String())
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(adminDSN)))
	defer sqldb.Close()
	var exists bool
	if err := sqldb.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("postgres admin connection (BENCH_SIZE_ADMIN_DSN): %w", err)
	}
	if !exists {
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return fmt.Errorf("BENCH_SIZE_DSN: database name %q: want lowercase letters, digits and _", name)
		}
		if _, err := sqldb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// loadKey reads (or makes) the encryption key the seeded sources are
// sealed with, so a reused database stays readable.
func loadKey(dir string) (*secret.Box, error) {
	p := filepath.Join(dir, "encryption.key")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		b = []byte(secret.NewKey("k1"))
		err = os.WriteFile(p, b, 0o600)
	}
	if err != nil {
		return nil, err
	}
	return secret.ParseKeys(strings.TrimSpace(string(b)))
}
