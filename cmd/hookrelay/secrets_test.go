package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// An install from before migration 0007 keeps its ingest URLs and header
// values through `migrate up` (which seals them) and `secrets rekey`
// (which moves them to a new key), after which the old key can go.
func TestMigrateSealsPlaintextAndRekeyRetiresTheKey(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	ctx := context.Background()
	k1, k2 := secret.NewKey("k1"), secret.NewKey("k2")
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		testenv.Must(t, err)
	}
	r := relayWith(t, db, k1)
	testenv.Must(t, store.New(db).CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.SystemActor("team_a")
	name, kind, sec := "s", "stripe", "whsec_cmd_rekey_secret_0123456789"
	src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(t, err)
	token := src.IngestToken
	url, ids := "https://example.com/hook", []string{src.ID}
	ep, _, err := r.CreateEndpoint(ctx, a, relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(t, err)

	// The rows as hookrelay stored them before 0007, and that schema.
	exec(`UPDATE sources SET ingest_token = ?, ingest_token_sealed = NULL`, token)
	exec(`UPDATE endpoints SET headers = '{"Authorization": "Bearer cmd-credential-0123"}'`)
	down, err := os.ReadFile("../../migrations/0007_sealed_values.tx.down.sql")
	testenv.Must(t, err)
	for _, q := range strings.Split(string(down), "--bun:split") {
		exec(q)
	}
	exec(`DELETE FROM bun_migrations WHERE name LIKE '0007%'`)

	var out bytes.Buffer
	getenv := testGetenv(t, dsn, map[string]string{"HOOKRELAY_ENCRYPTION_KEYS": k1})
	testenv.Must(t, run(ctx, []string{"hookrelay", "migrate", "up"}, getenv, &out))
	if !strings.Contains(out.String(), "applied 0007") || !strings.Contains(out.String(), "migrate: sealing: batch 1: sources 1/1") ||
		!strings.Contains(out.String(), "sealed the plaintext ingest tokens of 1 sources and header values of 1 endpoints") {
		t.Fatalf("migrate up said %q", out.String())
	}
	if d := dump(t, db); strings.Contains(d, token) || strings.Contains(d, "cmd-credential") {
		t.Fatalf("plaintext left after migrate up:\n%s", d)
	}
	var actor string
	testenv.Must(t, db.NewRaw(`SELECT actor FROM audit_log WHERE action = 'secrets.rekey'`).Scan(ctx, &actor))
	if actor != "cli:migrate" {
		t.Fatalf("audit actor %q", actor)
	}
	checkReadable(t, db, k1, src.ID, token, ep.ID)

	// Rekey with k2 first, k1 still there to open the old values.
	out.Reset()
	getenv = testGetenv(t, dsn, map[string]string{"HOOKRELAY_ENCRYPTION_KEYS": k2 + "," + k1})
	testenv.Must(t, run(ctx, []string{"hookrelay", "secrets", "rekey", "--batch", "1"}, getenv, &out))
	for _, want := range []string{`with key "k2"`, "batch 1: sources 1/1", "batch 2: endpoints 1/1",
		`done: 1 sources, 1 endpoints re-sealed in 2 batches`} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("rekey said %q, want %q in it", out.String(), want)
		}
	}
	// Then k1 is retired: everything still opens.
	checkReadable(t, db, k2, src.ID, token, ep.ID)

	// Rolling 0007 back would lose every ingest URL: refused, nothing changes.
	err = run(ctx, []string{"hookrelay", "migrate", "down"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "SQL cannot decrypt them") {
		t.Fatalf("migrate down with sealed values: %v", err)
	}
	checkReadable(t, db, k2, src.ID, token, ep.ID)

	for _, args := range [][]string{{"secrets"}, {"secrets", "rotate"}, {"secrets", "rekey", "--batch", "0"}} {
		if err := run(ctx, append([]string{"hookrelay"}, args...), getenv, &out); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Fatalf("%v: %v", args, err)
		}
	}
}

func relayWith(t *testing.T, db *bun.DB, keys string) *relay.Relay {
	t.Helper()
	box, err := secret.ParseKeys(keys)
	testenv.Must(t, err)
	return relay.New(relay.Deps{Store: store.New(db), Box: box}, relay.Options{})
}

// checkReadable opens a source's ingest token and secret and an
// endpoint's secret and header value with keys only, and finds the source
// by its URL.
func checkReadable(t *testing.T, db *bun.DB, keys, srcID, token, epID string) {
	t.Helper()
	ctx := context.Background()
	r := relayWith(t, db, keys)
	src, err := r.Store().GetSource(ctx, "team_a", srcID)
	testenv.Must(t, err)
	if got := r.IngestURL("https://relay.test", src); got != "https://relay.test/in/"+token {
		t.Fatalf("ingest url %q", got)
	}
	if is, err := r.SourceForIngest(ctx, token); err != nil || is.Source.ID != srcID {
		t.Fatalf("ingest lookup: %v", err)
	}
	if h := r.MaskSecrets(srcID, src.Secrets); len(h) != 1 || h[0].Hint != "whsec_…" {
		t.Fatalf("source secret %+v", h)
	}
	ep, err := r.Store().GetEndpoint(ctx, "team_a", epID)
	testenv.Must(t, err)
	if h := r.MaskSecrets(epID, ep.Secrets); len(h) != 1 || h[0].Hint == "(unreadable)" {
		t.Fatalf("endpoint secret %+v", h)
	}
	// The worker's view of it (relay/endpoint.go binds it to endpoint and name).
	box, err := secret.ParseKeys(keys)
	testenv.Must(t, err)
	if pt, err := box.OpenString(ep.Headers["Authorization"], []byte(epID+"/header/Authorization")); err != nil ||
		pt != "Bearer cmd-credential-0123" {
		t.Fatalf("header value: %v", err)
	}
}

func dump(t *testing.T, db *bun.DB) string {
	t.Helper()
	var rows []string
	for _, table := range []string{"sources", "endpoints", "audit_log"} {
		var part []string
		testenv.Must(t, db.NewRaw("SELECT t::text FROM "+table+" t").Scan(context.Background(), &part))
		rows = append(rows, part...)
	}
	return strings.Join(rows, "\n")
}
