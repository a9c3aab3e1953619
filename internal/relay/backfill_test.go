package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripemock"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

const testAPIKey = "rk_test_51backfillKEY000000"

// A backfill lists Stripe's events page by page through stripe-go (against
// stripe-mock behind a paging proxy), ingests only the events the source
// never stored, marks them, gives them deliveries like any webhook, counts
// its progress per page and is audited; a second run finds nothing new.
func TestBackfillFromStripeMock(t *testing.T) {
	mock := stripemock.Start(t)
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	now := time.Now().UTC()
	var events []proxyEvent // newest first, as Stripe lists them
	for i := range 7 {
		typ := "payment_intent.succeeded"
		if i%2 == 1 {
			typ = "charge.refunded"
		}
		events = append(events, proxyEvent{ID: fmt.Sprintf("evt_bf_%02d", i), Type: typ, Created: now.Add(-time.Duration(i+1) * time.Hour).Unix()})
	}
	proxy := newEventsProxy(t, mock, events, 3)
	log := &taskLog{}
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: log,
		Guard: delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})},
		relay.Options{StripeAPIURL: proxy.srv.URL})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u@example.test"}
	name, kind, whsec, key := "Stripe", "stripe", "whsec_backfilltestsecret", testAPIKey
	src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &whsec, APIKey: &key})
	testenv.Must(t, err)
	if src.APIKeySealed == "" || strings.Contains(src.APIKeySealed, key) {
		t.Fatalf("API key stored as %q", src.APIKeySealed)
	}
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_a", URL: "http://127.0.0.1:1/", Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID},
		EventTypes: []string{"payment_intent.succeeded", "charge.refunded"}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateEndpoint(ctx, ep))

	// Three of the seven arrived as webhooks (their bodies differ from the
	// API's, as Stripe's do): the backfill must not store them again.
	var webhooks []relay.Inbound
	for _, i := range []int{0, 3, 6} {
		webhooks = append(webhooks, relay.Inbound{Source: src, Body: []byte(`{"id":"` + events[i].ID + `"}`), ReceivedAt: now,
			Result: provider.Result{EventID: events[i].ID, EventType: events[i].Type, Verified: true}})
	}
	_, err = r.Ingest(ctx, webhooks)
	testenv.Must(t, err)
	log.take(task.TypeDeliver)

	since := now.Add(-24 * time.Hour)
	job, err := r.CreateBackfill(ctx, a, src.ID, since)
	testenv.Must(t, err)
	var seen []store.BackfillJob
	testenv.Must(t, r.RunBackfill(ctx, job.ID, func(j store.BackfillJob) { seen = append(seen, j) }))
	done, err := st.GetBackfillJob(ctx, "team_a", job.ID)
	testenv.Must(t, err)
	if done.Status != store.BackfillFinished || done.Pages != 3 || done.Found != 7 || done.New != 4 || done.Ingested != 4 ||
		done.Percent() != 100 {
		t.Fatalf("job %+v", done)
	}
	if len(seen) != 3 || seen[0].Pages != 1 || seen[0].Found != 3 || seen[2].Found != 7 || seen[0].Percent() <= 0 {
		t.Fatalf("progress %+v", seen)
	}
	// stripe-go asked with created[gte] and the endpoints' types, and paged.
	qs := proxy.seen()
	if len(qs) != 3 {
		t.Fatalf("queries %q", qs)
	}
	q0, _ := url.ParseQuery(qs[0])
	q2, _ := url.ParseQuery(qs[2])
	if q0.Get("created[gte]") != fmt.Sprint(since.Truncate(time.Second).Unix()) || q0.Get("types[0]") != "charge.refunded" ||
		q0.Get("types[1]") != "payment_intent.succeeded" || q2.Get("starting_after") != events[5].ID {
		t.Fatalf("queries %q", qs)
	}
	for i, e := range events {
		n, err := db.NewSelect().Table("events").Where("source_id = ? AND provider_event_id = ?", src.ID, e.ID).Count(ctx)
		testenv.Must(t, err)
		backfilled, err := db.NewSelect().Table("events").Where("source_id = ? AND provider_event_id = ? AND headers->? IS NOT NULL",
			src.ID, e.ID, relay.BackfillHeader).Count(ctx)
		testenv.Must(t, err)
		wantBackfilled := int64(1)
		if i%3 == 0 {
			wantBackfilled = 0
		}
		if n != 1 || backfilled != wantBackfilled {
			t.Fatalf("%s: %d events, %d backfilled", e.ID, n, backfilled)
		}
	}
	var body []byte
	testenv.Must(t, db.NewSelect().Table("events").Column("body").Where("provider_event_id = ?", events[1].ID).Scan(ctx, &body))
	if !strings.Contains(string(body), `"id":"`+events[1].ID+`"`) || !strings.Contains(string(body), `"object":"plan"`) {
		t.Fatalf("backfilled body %s", body)
	}
	if n, _ := db.NewSelect().Table("deliveries").Where("endpoint_id = ?", ep.ID).Count(ctx); n != 7 {
		t.Fatalf("%d deliveries, want 3 webhooks + 4 backfilled", n)
	}
	if ts := log.take(task.TypeDeliver); len(ts) == 0 {
		t.Fatal("backfilled events not dispatched")
	}
	for _, action := range []string{"source.backfill.start", "source.backfill.finish"} {
		if n, _ := db.NewSelect().Table("audit_log").Where("action = ? AND target_id = ?", action, src.ID).Count(ctx); n != 1 {
			t.Fatalf("%d %s audit rows", n, action)
		}
	}

	again, err := r.CreateBackfill(ctx, a, src.ID, since)
	testenv.Must(t, err)
	testenv.Must(t, r.RunBackfill(ctx, again.ID, nil))
	if j, _ := st.GetBackfillJob(ctx, "team_a", again.ID); j.Found != 7 || j.New != 0 || j.Ingested != 0 {
		t.Fatalf("second run %+v", j)
	}
}

// Bad input gets a clear error and changes nothing.
func TestBackfillRefusals(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: &taskLog{}}, relay.Options{})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u"}
	name, stripeKind, ghKind, whsec, gh := "S", "stripe", "github", "whsec_backfilltestsecret", "githubsecret0123456789"
	var ve *relay.ValidationError
	bad := "pk_test_publishable0000"
	if _, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &stripeKind, Secret: &whsec, APIKey: &bad}); !errors.As(err, &ve) || ve.Field != "api_key" {
		t.Fatalf("publishable key: %v", err)
	}
	key := testAPIKey
	if _, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &ghKind, Secret: &gh, APIKey: &key}); !errors.As(err, &ve) || ve.Field != "api_key" {
		t.Fatalf("key on a github source: %v", err)
	}
	src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &stripeKind, Secret: &whsec})
	testenv.Must(t, err)
	now := time.Now()
	if _, err := r.CreateBackfill(ctx, a, src.ID, now.Add(-time.Hour)); !errors.As(err, &ve) || ve.Field != "api_key" {
		t.Fatalf("no key: %v", err)
	}
	_, err = r.UpdateSource(ctx, a, src.ID, relay.SourceInput{APIKey: &key})
	testenv.Must(t, err)
	for _, since := range []time.Time{{}, now.Add(time.Hour), now.Add(-31 * 24 * time.Hour)} {
		if _, err := r.CreateBackfill(ctx, a, src.ID, since); !errors.As(err, &ve) || ve.Field != "since" {
			t.Fatalf("since %v: %v", since, err)
		}
	}
	if n, _ := db.NewSelect().Table("backfill_jobs").Count(ctx); n != 0 {
		t.Fatalf("%d jobs after refusals", n)
	}
	job, err := r.StartBackfill(ctx, a, src.ID, now.Add(-time.Hour))
	testenv.Must(t, err)
	if _, err := r.CancelBackfill(ctx, relay.Actor{TeamID: "team_b", Kind: "user", ID: "x"}, job.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team cancels: %v", err)
	}
	c, err := r.CancelBackfill(ctx, a, job.ID)
	testenv.Must(t, err)
	if c.Status != store.BackfillCancelled {
		t.Fatalf("cancelled job %+v", c)
	}
	// The cancelled job's task finds it over and does nothing.
	testenv.Must(t, r.RunBackfill(ctx, job.ID, nil))
	if _, err := r.CancelBackfill(ctx, a, job.ID); !errors.As(err, &ve) {
		t.Fatalf("cancel twice: %v", err)
	}
}

// `secrets rekey` re-seals a source's API key with the newest key, and a
// backfill opens it with only that key configured; StartBackfill queues
// the job's task.
func TestBackfillKeyRekeyedAndQueued(t *testing.T) {
	mock := stripemock.Start(t)
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	k1, k2 := secret.NewKey("k1"), secret.NewKey("k2")
	newRelay := func(keys string, log *taskLog) *relay.Relay {
		box, err := secret.ParseKeys(keys)
		testenv.Must(t, err)
		return relay.New(relay.Deps{Store: st, Box: box, Enqueuer: log,
			Guard: delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})}, relay.Options{StripeAPIURL: mock})
	}
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.SystemActor("team_a")
	name, kind, whsec, key := "S", "stripe", "whsec_backfilltestsecret", testAPIKey
	src, err := newRelay(k1, &taskLog{}).CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &whsec, APIKey: &key})
	testenv.Must(t, err)
	_, err = newRelay(k2+","+k1, &taskLog{}).Rekey(ctx, relay.RekeyOptions{})
	testenv.Must(t, err)
	var sealed string
	testenv.Must(t, db.NewSelect().Table("sources").Column("api_key_sealed").Where("id = ?", src.ID).Scan(ctx, &sealed))
	if secret.SealedKeyID(sealed) != "k2" {
		t.Fatalf("API key still sealed with %q", secret.SealedKeyID(sealed))
	}
	log := &taskLog{}
	r := newRelay(k2, log)
	job, err := r.StartBackfill(ctx, a, src.ID, time.Now().Add(-time.Hour))
	testenv.Must(t, err)
	if ts := log.take(task.TypeBackfill); len(ts) != 1 || !strings.Contains(string(ts[0].Payload()), job.ID) {
		t.Fatalf("tasks %v", ts)
	}
	testenv.Must(t, r.RunBackfill(ctx, job.ID, nil))
	if j, _ := st.GetBackfillJob(ctx, "team_a", job.ID); j.Status != store.BackfillFinished || j.Ingested != 1 {
		t.Fatalf("job %+v", j)
	}
}

// The backfill's Stripe client dials through the SSRF guard: with no range
// allowed, stripe-mock on loopback is refused and nothing is ingested.
func TestBackfillDialsThroughGuard(t *testing.T) {
	mock := stripemock.Start(t)
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: &taskLog{}, Guard: delivery.NewGuard(nil)},
		relay.Options{StripeAPIURL: mock})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u@example.test"}
	name, kind, whsec, key := "Stripe", "stripe", "whsec_backfilltestsecret", testAPIKey
	src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &whsec, APIKey: &key})
	testenv.Must(t, err)
	now := time.Now().UTC()
	testenv.Must(t, st.CreateEndpoint(ctx, &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_a", URL: "http://127.0.0.1:1/",
		Enabled: true, SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}))
	job, err := r.CreateBackfill(ctx, a, src.ID, now.Add(-time.Hour))
	testenv.Must(t, err)
	runErr := r.RunBackfill(ctx, job.ID, nil)
	got, err := st.GetBackfillJob(ctx, "team_a", job.ID)
	testenv.Must(t, err)
	if !strings.Contains(fmt.Sprint(runErr)+got.Error, "ssrf guard") {
		t.Fatalf("backfill past the guard: run error %v, job %+v", runErr, got)
	}
	if n, _ := db.NewSelect().Table("events").Where("source_id = ?", src.ID).Count(ctx); n != 0 || got.Ingested != 0 {
		t.Fatalf("%d events stored, job %+v", n, got)
	}
}
