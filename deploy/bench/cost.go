package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// costSample is what PostgreSQL and Redis had done at one moment: the
// bench database's counters from pg_stat_database, its statement count
// from pg_stat_statements when that extension works, and Redis's calls per
// command (INFO commandstats). Redis counts the whole server, so another
// client of the same Redis (a test run) shows up in the numbers.
type costSample struct {
	pg    map[string]int64
	stmts int64 // -1: pg_stat_statements unavailable
	redis map[string]int64
}

// costUse is the difference between two samples.
type costUse struct {
	PG         map[string]int64
	Statements int64 // -1: unknown
	StmtNote   string
	Redis      map[string]int64
	Valid      bool
}

// pgStatColumns are read from pg_stat_database for the bench database.
var pgStatColumns = []string{"xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched", "tup_returned"}

// enableStatements tries to create pg_stat_statements in the bench
// database. It needs the library in shared_preload_libraries and a role
// allowed to create the extension; without either the report counts
// transactions and rows instead of statements, and says why.
func (h *harness) enableStatements(ctx context.Context) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(h.benchAdminURL()), pgdriver.WithTimeout(5*time.Second)))
	defer db.Close()
	_, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	if err == nil {
		var n int64
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_statements").Scan(&n)
	}
	if err != nil {
		h.stmtNote = "pg_stat_statements unavailable (" + firstLine(err.Error()) + ")"
		return
	}
	h.statements = true
}

// benchAdminURL is the admin URL pointed at the bench database.
func (h *harness) benchAdminURL() string {
	u, err := url.Parse(h.s.AdminURL)
	if err != nil {
		return h.s.AdminURL
	}
	u.Path = "/" + benchDB
	return u.String()
}

// takeCostSample reads the PostgreSQL counters and Redis's command counts.
// A failure leaves the sample empty, and the report omits those lines.
func (h *harness) takeCostSample(ctx context.Context) costSample {
	s := costSample{pg: map[string]int64{}, stmts: -1, redis: h.takeRedisSample(ctx)}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(h.s.AdminURL), pgdriver.WithTimeout(5*time.Second)))
	defer db.Close()
	// Statistics reach pg_stat_database when a backend flushes them (at
	// most once a second while busy, and when it exits), so the final
	// sample is taken after hookrelay stopped.
	vals := make([]int64, len(pgStatColumns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	q := "SELECT " + strings.Join(pgStatColumns, ", ") + " FROM pg_stat_database WHERE datname = $1"
	if err := db.QueryRowContext(ctx, q, benchDB).Scan(ptrs...); err != nil {
		logf("warning: pg_stat_database: %v", err)
		return s
	}
	for i, c := range pgStatColumns {
		s.pg[c] = vals[i]
	}
	if h.statements {
		// The view exists only in the database the extension was created
		// in: the bench database, not the admin URL's.
		bdb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(h.benchAdminURL()), pgdriver.WithTimeout(5*time.Second)))
		defer bdb.Close()
		q := `SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)`
		if err := bdb.QueryRowContext(ctx, q, benchDB).Scan(&s.stmts); err != nil {
			logf("warning: pg_stat_statements: %v", err)
			s.stmts = -1
		}
	}
	return s
}

// takeRedisSample returns calls per command from INFO commandstats.
func (h *harness) takeRedisSample(ctx context.Context) map[string]int64 {
	out, err := redisDo(ctx, []string{"INFO", "commandstats"})
	if err != nil || len(out) != 1 {
		logf("warning: redis INFO commandstats: %v", err)
		return nil
	}
	m := map[string]int64{}
	for _, line := range strings.Split(out[0], "\n") {
		// cmdstat_evalsha:calls=123,usec=…
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		if n, err := strconv.ParseInt(calls, 10, 64); err == nil {
			m[strings.TrimPrefix(name, "cmdstat_")] = n
		}
	}
	return m
}

// sub returns what happened from prev to s.
func (s costSample) sub(prev costSample) costUse {
	u := costUse{PG: map[string]int64{}, Redis: map[string]int64{}, Statements: -1}
	if len(s.pg) == 0 || len(prev.pg) == 0 {
		return u
	}
	for k, v := range s.pg {
		u.PG[k] = v - prev.pg[k]
	}
	if s.stmts >= 0 && prev.stmts >= 0 {
		u.Statements = s.stmts - prev.stmts
	}
	for k, v := range s.redis {
		if d := v - prev.redis[k]; d > 0 {
			u.Redis[k] = d
		}
	}
	u.Valid = true
	return u
}

// printCost writes the per-event cost lines: PostgreSQL transactions,
// rows and (when available) statements, Redis commands and CPU time.
func (r *report) printCost(p func(string, ...any)) {
	n := r.Delivered
	per := "delivered event"
	if r.S.Mode == "serve" {
		n, per = r.Acked, "acknowledged event"
	}
	if n == 0 {
		return
	}
	f := func(v int64) string { return strconv.FormatFloat(float64(v)/float64(n), 'f', 2, 64) }
	c := r.Cost
	if c.Valid {
		p("cost      per %s (%d events; whole run, load and drain)", per, n)
		if c.Statements >= 0 {
			p("          postgres statements %s", f(c.Statements))
		} else {
			note := r.StmtNote
			if note == "" {
				note = "its query failed (warning on stderr)"
			}
			p("          postgres statements: not counted, %s", note)
		}
		p("          postgres transactions %s (commits %s, rollbacks %s)",
			f(c.PG["xact_commit"]+c.PG["xact_rollback"]), f(c.PG["xact_commit"]), f(c.PG["xact_rollback"]))
		p("          postgres rows inserted %s, updated %s, deleted %s, fetched %s, returned %s",
			f(c.PG["tup_inserted"]), f(c.PG["tup_updated"]), f(c.PG["tup_deleted"]), f(c.PG["tup_fetched"]), f(c.PG["tup_returned"]))
		var total int64
		names := make([]string, 0, len(c.Redis))
		for k, v := range c.Redis {
			total += v
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int { return int(c.Redis[b] - c.Redis[a]) })
		top := make([]string, 0, 6)
		for _, k := range names[:min(6, len(names))] {
			top = append(top, k+" "+f(c.Redis[k]))
		}
		p("          redis commands %s (server-wide): %s", f(total), strings.Join(top, ", "))
	}
	cpu := r.CPULoad
	if r.S.Mode == "all" {
		cpu = addCPU(r.CPULoad, r.CPUDrain)
	}
	if cpu.Valid {
		secs := cpu.Window.Seconds()
		msPer := func(cores float64) float64 { return cores * secs * 1000 / float64(n) }
		var sum float64
		parts := make([]string, 0, 4)
		for _, g := range cpuGroups[:4] {
			sum += cpu.Cores[g]
			parts = append(parts, fmt.Sprintf("%s %.3f", g, msPer(cpu.Cores[g])))
		}
		p("          cpu ms %.3f (%s)", msPer(sum), strings.Join(parts, ", "))
	}
}

// addCPU joins two consecutive windows into one.
func addCPU(a, b cpuUse) cpuUse {
	if !a.Valid || !b.Valid {
		return a
	}
	w := a.Window + b.Window
	u := cpuUse{Window: w, Cores: map[string]float64{}, Valid: true}
	for _, g := range cpuGroups {
		u.Cores[g] = (a.Cores[g]*a.Window.Seconds() + b.Cores[g]*b.Window.Seconds()) / w.Seconds()
	}
	u.Machine = (a.Machine*a.Window.Seconds() + b.Machine*b.Window.Seconds()) / w.Seconds()
	return u
}

// firstLine shortens a multi-line error for the report.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
