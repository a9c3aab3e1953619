package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The relay a process builds from its environment uses the settings
// given there: failed attempts are rescheduled on HOOKRELAY_RETRY_SCHEDULE
// spread by HOOKRELAY_RETRY_JITTER, and the attempts are claimed and
// recorded on the bookkeeping pool (synchronous_commit off), as the
// database itself reports.
func TestDepsRelayFollowsConfig(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	ctx := context.Background()
	cfg, err := config.Load(testGetenv(t, dsn, map[string]string{
		"HOOKRELAY_RETRY_SCHEDULE": "1h", "HOOKRELAY_RETRY_JITTER": "0.5", "HOOKRELAY_BREAKER_THRESHOLD": "100"}))
	testenv.Must(t, err)
	d, err := openDeps(ctx, cfg, true)
	testenv.Must(t, err)
	t.Cleanup(d.close)

	// Every UPDATE of a delivery logs the synchronous_commit of its session.
	for _, q := range []string{
		`CREATE TABLE delivery_writers (n serial, sync text)`,
		`CREATE FUNCTION log_delivery_writer() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO delivery_writers (sync) VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$`,
		`CREATE TRIGGER log_delivery_writer AFTER UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION log_delivery_writer()`,
	} {
		_, err := db.ExecContext(ctx, q)
		testenv.Must(t, err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	b, err := d.relay.Bootstrap(ctx)
	testenv.Must(t, err)
	a := relay.SystemActor(b.TeamID)
	name, kind, sec := "s", "stripe", "whsec_deps_test_secret_0123456789"
	src, err := d.relay.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(t, err)
	url, ids := srv.URL, []string{src.ID}
	ep, _, err := d.relay.CreateEndpoint(ctx, a, relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(t, err)

	const n = 4
	in := make([]relay.Inbound, n)
	for i := range in {
		in[i] = relay.Inbound{Source: src, Result: provider.Result{EventID: fmt.Sprint("evt_", i), EventType: "invoice.paid", Verified: true},
			Body: []byte(`{}`), ContentType: "application/json", ReceivedAt: time.Now().UTC()}
	}
	out, err := d.relay.Ingest(ctx, in)
	testenv.Must(t, err)
	st := store.New(db)
	var spread bool
	for _, x := range out {
		if len(x.Deliveries) != 1 {
			t.Fatalf("ingested %+v, want one delivery to %s", x, ep.ID)
		}
		id := x.Deliveries[0]
		testenv.Must(t, d.relay.Deliver(ctx, task.Deliver{DeliveryID: id, Attempt: 1}))
		dl, err := st.GetDelivery(ctx, b.TeamID, id)
		testenv.Must(t, err)
		atts, err := st.AttemptsOf(ctx, id)
		testenv.Must(t, err)
		if dl.Status != store.StatusPending || dl.NextAttemptAt == nil || len(atts) != 1 {
			t.Fatalf("after a 500: %+v, %d attempts", dl, len(atts))
		}
		// ±50 % of 1h; the attempt itself takes milliseconds.
		delay := dl.NextAttemptAt.Sub(atts[0].StartedAt)
		if delay < 30*time.Minute || delay > 91*time.Minute {
			t.Fatalf("retry %v after the attempt, want 1h ± 50%%", delay)
		}
		if delay < 59*time.Minute || delay > 61*time.Minute {
			spread = true
		}
	}
	if !spread {
		t.Fatal("every retry is due 1h ± 1 min after its attempt: HOOKRELAY_RETRY_JITTER=0.5 was not applied")
	}
	var writers []string
	testenv.Must(t, db.NewRaw(`SELECT sync FROM delivery_writers ORDER BY n`).Scan(ctx, &writers))
	if len(writers) != 2*n {
		t.Fatalf("%d delivery updates, want a claim and a finish per attempt: %v", len(writers), writers)
	}
	for _, w := range writers {
		if w != "off" {
			t.Fatalf("an attempt was claimed or recorded with synchronous_commit %s, want the bookkeeping pool (off): %v", w, writers)
		}
	}
}

// `secrets new-key` prints a fresh key that HOOKRELAY_ENCRYPTION_KEYS
// accepts, under the id given; two calls never print the same key, and a
// bad id is refused.
func TestSecretsNewKey(t *testing.T) {
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	var a, b bytes.Buffer
	testenv.Must(t, run(ctx, []string{"hookrelay", "secrets", "new-key", "k2"}, noEnv, &a))
	testenv.Must(t, run(ctx, []string{"hookrelay", "secrets", "new-key", "k2"}, noEnv, &b))
	spec := strings.TrimSpace(a.String())
	box, err := secret.ParseKeys(spec)
	if err != nil || box.KeyID() != "k2" || !strings.HasPrefix(spec, "k2:") {
		t.Fatalf("new-key printed %q: %v", spec, err)
	}
	if spec == strings.TrimSpace(b.String()) {
		t.Fatal("two new keys are the same")
	}
	for _, bad := range [][]string{{"new-key"}, {"new-key", "a:b"}, {"new-key", "k1", "k2"}} {
		if err := run(ctx, append([]string{"hookrelay", "secrets"}, bad...), noEnv, &a); err == nil {
			t.Fatalf("secrets %v accepted", bad)
		}
	}
}
