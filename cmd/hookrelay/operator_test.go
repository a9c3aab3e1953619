package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// withStdin runs f with the CLI reading s as its standard input.
func withStdin(s string, f func()) {
	old := stdin
	stdin = strings.NewReader(s)
	defer func() { stdin = old }()
	f()
}

func TestAdminTeamAndUserCreate(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	getenv := testGetenv(t, dsn, nil)
	ctx := context.Background()
	st := store.New(db)
	var out bytes.Buffer
	testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "team", "create", "--name", " Ops "}, getenv, &out))
	m := regexp.MustCompile(`^team (team_\w+) \(Ops\) created\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("team create output %q", out.String())
	}
	team := m[1]
	rows, err := st.ListAudit(ctx, store.AuditFilter{TeamID: team, Action: "team.create"})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].Actor != "cli:admin" || rows[0].TargetID != team {
		t.Fatalf("team audit %+v", rows)
	}
	if err := run(ctx, []string{"hookrelay", "admin", "team", "create"}, getenv, &out); err == nil {
		t.Fatal("team without a name accepted")
	}

	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: st, Box: box}, relay.Options{BcryptCost: 4})
	login := func(email, pw, role string) {
		t.Helper()
		l, err := r.Login(ctx, email, pw, "127.0.0.1", "")
		testenv.Must(t, err)
		cur, err := r.SessionFromToken(ctx, l.Token)
		if err != nil || cur.Role != role || cur.TeamID != team {
			t.Fatalf("%s signed in as %+v, %v; want %s of %s", email, cur, err, role, team)
		}
	}

	// The password piped on stdin.
	out.Reset()
	withStdin("a long password\n", func() {
		testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "user", "create", "--email", "ops@example.test",
			"--team", team, "--role", "admin"}, getenv, &out))
	})
	if !strings.Contains(out.String(), "admin of team "+team) || strings.Contains(out.String(), "password") {
		t.Fatalf("user create output %q", out.String())
	}
	login("ops@example.test", "a long password", store.RoleAdmin)

	// Nothing on stdin: a password is generated and printed once.
	out.Reset()
	withStdin("", func() {
		testenv.Must(t, run(ctx, []string{"hookrelay", "admin", "user", "create", "--email", "v@example.test",
			"--team", team, "--role", "viewer"}, getenv, &out))
	})
	pm := regexp.MustCompile(`password \(shown once\): (\S+)\n`).FindStringSubmatch(out.String())
	if pm == nil || len(pm[1]) < 16 {
		t.Fatalf("generated password output %q", out.String())
	}
	login("v@example.test", pm[1], store.RoleViewer)
	audit, err := st.ListAudit(ctx, store.AuditFilter{TeamID: team, Action: "member.add"})
	testenv.Must(t, err)
	if len(audit) != 2 || audit[0].Actor != "cli:admin" {
		t.Fatalf("member audit %+v", audit)
	}

	users := func() int {
		n, err := db.NewSelect().Table("users").Count(ctx)
		testenv.Must(t, err)
		return int(n)
	}
	before := users()
	for _, bad := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"--email", "x@example.test"}, "a long password"},                                          // no team
		{[]string{"--email", "x@example.test", "--team", "team_nope"}, "a long password"},                   // unknown team
		{[]string{"--email", "x@example.test", "--team", team, "--role", "king"}, "a long password"},        // bad role
		{[]string{"--email", "x@example.test", "--team", team}, "Password123"},                              // common
		{[]string{"--email", "ops@example.test", "--team", team}, "another long password"},                  // taken
		{[]string{"--email", "x@example.test", "--team", team, "--password", "p"}, "another long password"}, // no such flag
	} {
		withStdin(bad.stdin, func() {
			if err := run(ctx, append([]string{"hookrelay", "admin", "user", "create"}, bad.args...), getenv, &out); err == nil {
				t.Errorf("user create %v accepted", bad.args)
			}
		})
	}
	if n := users(); n != before {
		t.Fatalf("%d users created by refused commands", n-before)
	}
}

func TestEndpointReplayCommand(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	getenv := testGetenv(t, dsn, nil)
	ctx := context.Background()
	st := store.New(db)
	r := relay.New(relay.Deps{Store: st}, relay.Options{})
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	now := time.Now().UTC()
	src := &store.Source{ID: store.NewID("src"), TeamID: "team_a", Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateSource(ctx, src))
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_a", URL: "http://127.0.0.1:1/", Enabled: true,
		SigningScheme: "none", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateEndpoint(ctx, ep))
	a := relay.SystemActor("team_a")
	_, err := r.SetEndpointEnabled(ctx, a, ep.ID, false)
	testenv.Must(t, err)
	for range 3 {
		_, err := st.InsertEvent(ctx, &store.Event{ID: store.NewID("evt"), TeamID: "team_a", SourceID: src.ID,
			ReceivedAt: time.Now().UTC(), EventType: "a", Body: []byte(`{}`), Verified: true})
		testenv.Must(t, err)
	}
	_, err = r.SetEndpointEnabled(ctx, a, ep.ID, true)
	testenv.Must(t, err)

	var out bytes.Buffer
	args := []string{"hookrelay", "endpoint", "replay", "--endpoint", ep.ID}
	testenv.Must(t, run(ctx, append(args, "--dry-run"), getenv, &out))
	if !strings.HasPrefix(out.String(), "dry run: 3 events since ") {
		t.Fatalf("dry run output %q", out.String())
	}
	deliveries := func() int {
		n, err := db.NewSelect().Table("deliveries").Where("endpoint_id = ?", ep.ID).Count(ctx)
		testenv.Must(t, err)
		return int(n)
	}
	if n := deliveries(); n != 0 {
		t.Fatalf("dry run made %d deliveries", n)
	}
	out.Reset()
	testenv.Must(t, run(ctx, args, getenv, &out))
	if !regexp.MustCompile(`^replay job bulk_\w+: 3 events since \S+\nreplayed 3 of 3 \(finished\)\n$`).MatchString(out.String()) {
		t.Fatalf("replay output %q", out.String())
	}
	if n := deliveries(); n != 3 {
		t.Fatalf("%d deliveries after the replay, want 3", n)
	}
	rows, err := st.ListAudit(ctx, store.AuditFilter{TeamID: "team_a", Action: "endpoint.replay"})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].Actor != "cli:admin" {
		t.Fatalf("replay audit %+v", rows)
	}
	for _, bad := range [][]string{
		args, // nothing left to replay
		{"hookrelay", "endpoint", "replay", "--endpoint", "ep_nope", "--dry-run"},
		append(append([]string{}, args...), "--since", "yesterday"),
		{"hookrelay", "endpoint", "replay"},
	} {
		if err := run(ctx, bad, getenv, &out); err == nil {
			t.Errorf("%v accepted", bad[1:])
		}
	}
	if n := deliveries(); n != 3 {
		t.Fatalf("%d deliveries after refused replays", n)
	}
}
