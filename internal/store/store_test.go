package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func seed(t *testing.T, st *store.Store) (*store.Source, *store.Endpoint) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_1", Name: "t"}))
	src := &store.Source{ID: store.NewID("src"), TeamID: "team_1", Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateSource(ctx, src))
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_1", URL: "http://127.0.0.1:1/", Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateEndpoint(ctx, ep))
	return src, ep
}

func TestEventDedupAndClaim(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)

	subs, err := st.SubscribedEndpoints(ctx, src.ID)
	if err != nil || len(subs) != 1 || subs[0].ID != ep.ID {
		t.Fatalf("subscribed = %v, %v", subs, err)
	}
	pid := "evt_stripe_1"
	now := time.Now().UTC()
	e1 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now,
		ProviderEventID: &pid, Body: []byte(`{"id":"evt_stripe_1"}`), Verified: true}
	if ins, err := st.InsertEvent(ctx, e1); err != nil || !ins {
		t.Fatalf("first insert: %v %v", ins, err)
	}
	first := e1.ID
	e2 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now,
		ProviderEventID: &pid, Body: []byte(`{"id":"evt_stripe_1"}`), Verified: true}
	if ins, err := st.InsertEvent(ctx, e2); err != nil || ins || e2.ID != first {
		t.Fatalf("duplicate insert: inserted=%v id=%s want %s err=%v", ins, e2.ID, first, err)
	}
	// The same id with another body is not a retry (the id may come from an
	// unsigned header): it is stored on its own, alone and in a batch.
	e3 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now,
		ProviderEventID: &pid, Body: []byte(`{"id":"evt_stripe_1","forged":true}`), Verified: true}
	if ins, err := st.InsertEvent(ctx, e3); err != nil || !ins || e3.ID == first {
		t.Fatalf("reused key, other body: inserted=%v id=%s err=%v", ins, e3.ID, err)
	}
	pid2 := "evt_batch"
	b1 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now, ProviderEventID: &pid2, Body: []byte(`a`), Verified: true}
	b2 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now, ProviderEventID: &pid2, Body: []byte(`b`), Verified: true}
	b3 := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now, ProviderEventID: &pid2, Body: []byte(`a`), Verified: true}
	ins, err := st.InsertEvents(ctx, []*store.Event{b1, b2, b3})
	if err != nil || !ins[0] || !ins[1] || ins[2] || b3.ID != b1.ID || b2.ID == b1.ID {
		t.Fatalf("batch: inserted=%v ids %s %s %s err=%v", ins, b1.ID, b2.ID, b3.ID, err)
	}

	d := store.Delivery{ID: store.NewID("dlv"), TeamID: "team_1", EventID: first, EndpointID: ep.ID,
		Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{d}))

	if _, err := st.ClaimAttempt(ctx, d.ID, 2, now, 15*time.Second, time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim of attempt 2 before 1: %v", err)
	}
	c, err := st.ClaimAttempt(ctx, d.ID, 1, now, 15*time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c.Attempt != 1 || string(c.Body) != `{"id":"evt_stripe_1"}` || c.URL != ep.URL || !c.EndpointEnabled {
		t.Fatalf("claimed %+v", c)
	}
	if _, err := st.ClaimAttempt(ctx, d.ID, 1, now, 15*time.Second, time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second claim of the same attempt: %v", err)
	}
	next := now.Add(5 * time.Second)
	a := &store.Attempt{DeliveryID: d.ID, N: 1, StartedAt: now, URL: ep.URL, ResponseStatus: 500,
		RequestHeaders: map[string][]string{"X": {"y"}}}
	testenv.Must(t, st.FinishAttempt(ctx, a, store.Outcome{Status: store.StatusPending, NextAttemptAt: &next, LastStatus: 500}, now))
	got, err := st.GetDelivery(ctx, "team_1", d.ID)
	if err != nil || got.Status != store.StatusPending || got.Attempts != 1 || got.LastStatus != 500 {
		t.Fatalf("after attempt: %+v %v", got, err)
	}
	atts, err := st.AttemptsOf(ctx, d.ID)
	if err != nil || len(atts) != 1 || atts[0].RequestHeaders["X"][0] != "y" {
		t.Fatalf("attempts %+v %v", atts, err)
	}
	due, err := st.DueDeliveries(ctx, now.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("due %+v %v", due, err)
	}
	if _, err := st.GetDelivery(ctx, "team_2", d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team sees delivery: %v", err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	a := &store.AuditEntry{TeamID: "team_1", Actor: "token:tok_1", Action: "source.create", At: time.Now()}
	testenv.Must(t, st.InsertAudit(ctx, a))
	if _, err := db.ExecContext(ctx, "UPDATE audit_log SET actor = 'x'"); err == nil {
		t.Fatal("audit_log row was updated")
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM audit_log"); err == nil {
		t.Fatal("audit_log row was deleted")
	}
	rows, err := st.ListAudit(ctx, store.AuditFilter{TeamID: "team_1"})
	if err != nil || len(rows) != 1 || rows[0].Actor != "token:tok_1" {
		t.Fatalf("audit %+v %v", rows, err)
	}
}

// recordWriters makes every later UPDATE of a delivery log the
// synchronous_commit setting of the session that made it: which pool
// claimed or finished an attempt, seen from the database.
func recordWriters(t *testing.T, db *bun.DB) func() []string {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE delivery_writers (n serial, sync text)`,
		`CREATE FUNCTION log_delivery_writer() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO delivery_writers (sync) VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$`,
		`CREATE TRIGGER log_delivery_writer AFTER UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION log_delivery_writer()`,
	} {
		_, err := db.ExecContext(ctx, q)
		testenv.Must(t, err)
	}
	return func() []string {
		var out []string
		testenv.Must(t, db.NewRaw(`SELECT sync FROM delivery_writers ORDER BY n`).Scan(ctx, &out))
		return out
	}
}

// The bookkeeping pool (synchronous_commit off) claims and finishes like
// the main one, and really runs with that setting: the claim and the
// finish are made by sessions with synchronous_commit off.
func TestBookkeepingPool(t *testing.T) {
	db, dsn := testenv.Postgres(t)
	ctx := context.Background()
	pool, err := store.OpenBookkeeping(ctx, dsn)
	testenv.Must(t, err)
	defer pool.Close()
	var mode string
	testenv.Must(t, pool.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&mode))
	if mode != "off" {
		t.Fatalf("bookkeeping pool synchronous_commit = %s", mode)
	}
	st := store.New(db).WithBookkeeping(pool)
	src, ep := seed(t, st)
	now := time.Now().UTC()
	e := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now, Body: []byte(`{}`), Verified: true}
	_, err = st.InsertEvent(ctx, e)
	testenv.Must(t, err)
	d := store.Delivery{ID: store.NewID("dlv"), TeamID: "team_1", EventID: e.ID, EndpointID: ep.ID,
		Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{d}))
	writers := recordWriters(t, db)
	c, err := st.ClaimAttempt(ctx, d.ID, 1, now, 15*time.Second, time.Minute)
	testenv.Must(t, err)
	testenv.Must(t, st.FinishAttempt(ctx, &store.Attempt{DeliveryID: d.ID, N: c.Attempt, StartedAt: now, URL: ep.URL,
		ResponseStatus: 204}, store.Outcome{Status: store.StatusSucceeded, LastStatus: 204, EndpointID: ep.ID}, now))
	got, err := st.GetDelivery(ctx, "team_1", d.ID)
	if err != nil || got.Status != store.StatusSucceeded {
		t.Fatalf("delivery %+v, %v", got, err)
	}
	if w := writers(); len(w) != 2 || w[0] != "off" || w[1] != "off" {
		t.Fatalf("claim and finish ran with synchronous_commit %v, want [off off] (the bookkeeping pool)", w)
	}
}
