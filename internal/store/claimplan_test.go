package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The claim, postpone and defer statements find their deliveries by
// primary key and never read deliveries_due (every pending delivery's
// entry), even in the generic plan a connection caches while deliveries
// has no statistics yet: a fresh database under load before autoanalyze.
// Their plans were a bitmap AND with deliveries_due there, reading the
// whole backlog per claim. Plans, not timings.
func TestDeliveryBatchPlansSkipDueIndex(t *testing.T) {
	db, _ := testenv.Postgres(t)
	ctx := context.Background()
	st := store.New(db)
	_, ep := seed(t, st)
	// Many pending deliveries and no ANALYZE, as under a first burst.
	_, err := db.ExecContext(ctx, `INSERT INTO deliveries (id, team_id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
		SELECT 'dlv_' || g, 'team_1', 'evt_' || g, ?, now(), now(), now() FROM generate_series(1, 5000) g`, ep.ID)
	testenv.Must(t, err)
	conn, err := db.Conn(ctx)
	testenv.Must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan")
	testenv.Must(t, err)
	reqs := `'[{"id":"dlv_7","n":1}]', '{dlv_7}'`
	for name, c := range map[string]struct{ sql, args string }{
		"claim":    {store.ClaimSQL, "now(), 30000, 15000, " + reqs},
		"postpone": {store.PostponeSQL, "now(), " + reqs + ", 'rate limit'"},
		"defer":    {store.DeferSQL, "now(), now(), " + reqs},
	} {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PREPARE plan_%s AS %s", name, c.sql))
		testenv.Must(t, err)
		rows, err := conn.QueryContext(ctx, fmt.Sprintf("EXPLAIN EXECUTE plan_%s(%s)", name, c.args))
		testenv.Must(t, err)
		var lines []string
		for rows.Next() {
			var l string
			testenv.Must(t, rows.Scan(&l))
			lines = append(lines, l)
		}
		testenv.Must(t, rows.Err())
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "deliveries_due") || !strings.Contains(plan, "deliveries_pkey") {
			t.Fatalf("%s: the generic plan must find deliveries by deliveries_pkey alone:\n%s", name, plan)
		}
	}
}
