package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// admin seed creates the team, its seed sources and endpoints, and the
// events; a bad command line is refused before anything is written.
func TestAdminSeed(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	getenv := testGetenv(t, dsn, nil)
	ctx := context.Background()
	count := func(q string) int {
		var n int
		testenv.Must(t, db.NewRaw(q).Scan(ctx, &n))
		return n
	}
	for _, bad := range [][]string{{"--events", "0", "--team", "team_s"}, {"--events", "10"}, {"--events", "ten", "--team", "team_s"},
		{"--events", "10", "--team", "team_s", "--days", "0"}} {
		var out bytes.Buffer
		err := run(ctx, append([]string{"hookrelay", "admin", "seed"}, bad...), getenv, &out)
		if err == nil || !strings.Contains(err.Error(), "admin seed") {
			t.Fatalf("%v: err %v", bad, err)
		}
	}
	if n := count("SELECT count(*) FROM teams WHERE id = 'team_s'") + count("SELECT count(*) FROM events"); n != 0 {
		t.Fatalf("a refused seed wrote %d rows", n)
	}
	var out bytes.Buffer
	testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "seed", "--events", "500", "--team", "team_s", "--days", "3"}, getenv, &out))
	if !strings.Contains(out.String(), "seeded 500 events into team team_s") {
		t.Fatalf("output %q", out.String())
	}
	if n := count("SELECT count(*) FROM events WHERE team_id = 'team_s'"); n != 500 {
		t.Fatalf("%d events", n)
	}
	if n := count("SELECT count(*) FROM sources WHERE team_id = 'team_s'"); n != 3 {
		t.Fatalf("%d sources", n)
	}
	// Again: the same sources and endpoints, 500 more events.
	testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "seed", "--events", "500", "--team", "team_s", "--days", "3"}, getenv, &out))
	if n := count("SELECT count(*) FROM events WHERE team_id = 'team_s'") + count("SELECT count(*) FROM endpoints WHERE team_id = 'team_s'"); n != 1004 {
		t.Fatalf("%d events + endpoints after a second seed, want 1000 + 4", n)
	}
}
