package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripemock"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// `hookrelay stripe backfill` lists stripe-mock's events with the source's
// API key, prints a progress line per page and a summary, and ingests the
// event the source never stored; a second run finds it stored.
func TestStripeBackfillCommand(t *testing.T) {
	mock := stripemock.Start(t)
	db, dsn := testenv.Postgres(t)
	getenv := testGetenv(t, dsn, nil)
	ctx := context.Background()
	box, err := secret.ParseKeys(getenv("HOOKRELAY_ENCRYPTION_KEYS"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: store.New(db), Box: box}, relay.Options{})
	testenv.Must(t, store.New(db).CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	name, kind, whsec, key := "Stripe", "stripe", "whsec_clibackfillsecret00", "rk_test_51clibackfill000000"
	src, err := r.CreateSource(ctx, relay.SystemActor("team_a"), relay.SourceInput{Name: &name, Provider: &kind, Secret: &whsec, APIKey: &key})
	testenv.Must(t, err)

	var out bytes.Buffer
	if err := run(ctx, []string{"hookrelay", "stripe", "backfill", "--source", src.ID}, getenv, &out); err == nil ||
		!strings.Contains(err.Error(), "usage") {
		t.Fatalf("without --since: %v", err)
	}
	if err := run(ctx, []string{"hookrelay", "stripe", "backfill", "--source", src.ID, "--since", "yesterday"}, getenv, &out); err == nil ||
		!strings.Contains(err.Error(), "--since") {
		t.Fatalf("bad --since: %v", err)
	}
	// stripe-mock checks created[gte] but, stateless, answers its one
	// fixture event (created in 2009) whatever the filter.
	args := []string{"hookrelay", "stripe", "backfill", "--source", src.ID, "--since", "24h", "--api-url", mock}
	testenv.Must(t, run(ctx, args, getenv, &out))
	if !strings.Contains(out.String(), "pages 1  found 1  new 1  ingested 1\n") || !strings.Contains(out.String(), " finished: pages 1, found 1, new 1, ingested 1") {
		t.Fatalf("output %q", out.String())
	}
	n, err := db.NewSelect().Table("events").Where("source_id = ? AND headers->? IS NOT NULL", src.ID, relay.BackfillHeader).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%d backfilled events, %v", n, err)
	}
	out.Reset()
	testenv.Must(t, run(ctx, args, getenv, &out))
	if !strings.Contains(out.String(), "found 1, new 0, ingested 0") {
		t.Fatalf("second run %q", out.String())
	}
}
