package store_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func newEvent(src *store.Source, pid, body string) *store.Event {
	e := &store.Event{ID: store.NewID("evt"), TeamID: src.TeamID, SourceID: src.ID, ReceivedAt: time.Now().UTC(),
		EventType: `type "quoted" \ {braces}, commas`, ContentType: "application/json",
		Headers: map[string][]string{"X-Odd": {`a "b" \c {d}`, "é€"}}, Body: []byte(body), Verified: true}
	if pid != "" {
		e.ProviderEventID = &pid
	}
	return e
}

// IngestEvents stores events and the deliveries of the new ones in one
// statement; a duplicate's deliveries are dropped, a key reused with
// another body is stored with its deliveries, and values survive the
// array encoding byte for byte.
func TestIngestEventsWithDeliveries(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)

	orig := newEvent(src, "evt_1", `{"id":"evt_1"}`)
	if ins, err := st.InsertEvent(ctx, orig); err != nil || !ins {
		t.Fatalf("first insert: %v %v", ins, err)
	}
	fresh := newEvent(src, "", "\x00\xff binary \\ \"")
	retry := newEvent(src, "evt_1", `{"id":"evt_1"}`)
	reused := newEvent(src, "evt_1", `{"id":"evt_1","other":true}`)
	es := []*store.Event{fresh, retry, reused}
	ownRetry, ownReused := retry.ID, reused.ID
	var ds []store.Delivery
	for _, e := range es {
		ds = append(ds, store.Delivery{ID: store.NewID("dlv"), EventID: e.ID, EndpointID: ep.ID})
	}
	ins, err := st.IngestEvents(ctx, es, ds)
	if err != nil {
		t.Fatal(err)
	}
	if !ins[0] || ins[1] || !ins[2] || retry.ID != orig.ID || reused.ID != ownReused {
		t.Fatalf("inserted %v, retry id %s (orig %s), reused id %s (own %s)", ins, retry.ID, orig.ID, reused.ID, ownReused)
	}
	for _, e := range []*store.Event{fresh, reused} {
		got, err := st.GetEvent(ctx, src.TeamID, e.ID)
		if err != nil || string(got.Body) != string(e.Body) || got.EventType != e.EventType ||
			got.Headers["X-Odd"][0] != e.Headers["X-Odd"][0] || got.Headers["X-Odd"][1] != "é€" ||
			!got.ReceivedAt.Equal(e.ReceivedAt.Truncate(time.Microsecond)) {
			t.Fatalf("stored %+v, %v; want %+v", got, err, e)
		}
		dl, err := st.DeliveriesOfEvent(ctx, src.TeamID, e.ID)
		if err != nil || len(dl) != 1 || dl[0].Status != store.StatusPending || dl[0].TeamID != src.TeamID ||
			!dl[0].CreatedAt.Equal(got.ReceivedAt) || dl[0].NextAttemptAt == nil || !dl[0].NextAttemptAt.Equal(got.ReceivedAt) {
			t.Fatalf("deliveries of %s: %+v, %v", e.ID, dl, err)
		}
	}
	for _, id := range []string{ownRetry, orig.ID} {
		if dl, err := st.DeliveriesOfEvent(ctx, src.TeamID, id); err != nil || len(dl) != 0 {
			t.Fatalf("a duplicate got deliveries under %s: %+v, %v", id, dl, err)
		}
	}
}

// Ingest commits durably: it never runs on the bookkeeping pool (whose
// commits do not wait for the WAL flush), even on a Store that has one.
func TestIngestEventsNeverUsesBookkeepingPool(t *testing.T) {
	db, _ := testenv.Postgres(t)
	closed := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN("postgres://nobody@127.0.0.1:1/none?sslmode=disable")))
	closed.Close()
	st := store.New(db).WithBookkeeping(closed)
	src, ep := seed(t, store.New(db))
	e := newEvent(src, "evt_durable", "{}")
	ins, err := st.IngestEvents(context.Background(), []*store.Event{e},
		[]store.Delivery{{ID: store.NewID("dlv"), EventID: e.ID, EndpointID: ep.ID}})
	if err != nil || !ins[0] {
		t.Fatalf("ingest on a store with a bookkeeping pool: %v %v", ins, err)
	}
}

// Subscribers is cached, and a change made through the same Store (in a
// transaction or not) is seen by the next call; another Store (another
// replica) sees it once SubscribersTTL has passed.
func TestSubscribersCacheInvalidation(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st, replica := store.New(db), store.New(db)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store.SetSubscribersClock(replica, clock)
	ctx := context.Background()
	src, ep := seed(t, st)
	count := func(s *store.Store) int {
		t.Helper()
		subs, err := s.Subscribers(ctx, src.ID)
		testenv.Must(t, err)
		return len(subs)
	}
	if count(st) != 1 || count(replica) != 1 {
		t.Fatal("want the seeded endpoint")
	}
	ep2 := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_1", URL: "http://127.0.0.1:2/", Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateEndpoint(ctx, ep2))
	if n := count(st); n != 2 {
		t.Fatalf("after create: %d subscribers, want 2", n)
	}
	testenv.Must(t, st.Tx(ctx, func(tx *store.Store) error {
		return tx.SetEndpointEnabled(ctx, "team_1", ep.ID, false, "test", now)
	}))
	if n := count(st); n != 1 {
		t.Fatalf("after disable in a transaction: %d subscribers, want 1", n)
	}
	testenv.Must(t, st.DeleteEndpoint(ctx, "team_1", ep2.ID, now))
	if n := count(st); n != 0 {
		t.Fatalf("after delete: %d subscribers, want 0", n)
	}
	if n := count(replica); n != 1 {
		t.Fatalf("replica within the TTL: %d subscribers, want its cached 1", n)
	}
	mu.Lock()
	now = now.Add(store.SubscribersTTL)
	mu.Unlock()
	if n := count(replica); n != 0 {
		t.Fatalf("replica after the TTL: %d subscribers, want 0", n)
	}
}
