package store_test

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// queryLog records the SQL a Store sends (bun formats the arguments into
// the text, so a recorded query can be EXPLAINed as it ran).
type queryLog struct {
	mu sync.Mutex
	qs []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	l.qs = append(l.qs, e.Query)
	l.mu.Unlock()
}

// take returns the queries recorded since the last take.
func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	qs := l.qs
	l.qs = nil
	return qs
}

var partitionRe = regexp.MustCompile(`\b((?:events|delivery_attempts)_(?:p\d{8}|default))\b`)

// scanned EXPLAINs q and returns the partitions its plan reads.
func scanned(t *testing.T, db bun.IDB, q string) []string {
	t.Helper()
	var lines []string
	testenv.Must(t, db.NewRaw("EXPLAIN "+q).Scan(context.Background(), &lines))
	seen := map[string]bool{}
	for _, l := range lines {
		for _, m := range partitionRe.FindAllStringSubmatch(l, -1) {
			seen[m[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// onlyQuery is the one recorded query that mentions table.
func onlyQuery(t *testing.T, qs []string, table string) string {
	t.Helper()
	var out []string
	for _, q := range qs {
		if strings.HasPrefix(q, "EXPLAIN ") {
			continue // scanned's own
		}
		if strings.Contains(q, `"`+table+`"`) || strings.Contains(q, " "+table+" ") {
			out = append(out, q)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one query on %s, got %q", table, out)
	}
	return out[0]
}

// Lookups by event id read the one or two day partitions the id's time
// points at, not all of them; the attempts of a delivery skip the days
// before it.
func TestLookupByIDPrunesPartitions(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	now := time.Now().UTC()
	for d := -6; d < 0; d++ {
		for _, table := range []string{store.TableEvents, store.TableAttempts} {
			_, _, err := st.CreatePartition(ctx, table, now.AddDate(0, 0, d))
			testenv.Must(t, err)
		}
	}
	parts, err := st.Partitions(ctx, store.TableEvents)
	testenv.Must(t, err)
	if len(parts) < 10 {
		t.Fatalf("only %d event partitions: the test needs several", len(parts))
	}
	var target *store.Event
	for d := -6; d <= 0; d++ {
		at := store.Day(now.AddDate(0, 0, d)).Add(12 * time.Hour)
		if d == 0 {
			at = now
		}
		pid := ""
		if d == -3 {
			pid = "evt_1Pq2R3s4T5u6V7w8X9y0Zabc" // Stripe's shape: no ULID
		}
		e := event(src, pid, at)
		_, err := st.InsertEvent(ctx, e)
		testenv.Must(t, err)
		if d == -3 {
			target = e
		}
	}
	dl := store.Delivery{ID: store.NewIDAt("dlv", target.ReceivedAt), TeamID: "team_1", EventID: target.ID,
		EndpointID: ep.ID, Status: store.StatusSucceeded, Attempts: 2, CreatedAt: target.ReceivedAt, UpdatedAt: target.ReceivedAt}
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{dl}))
	for n, after := range []time.Duration{time.Second, 26 * time.Hour} { // the retry the next day
		a := &store.Attempt{DeliveryID: dl.ID, N: n + 1, StartedAt: target.ReceivedAt.Add(after), URL: ep.URL,
			RequestHeaders: map[string][]string{}, ResponseHeaders: map[string][]string{}}
		_, err := db.NewInsert().Model(a).Exec(ctx)
		testenv.Must(t, err)
	}

	log := &queryLog{}
	db.AddQueryHook(log)
	want := store.PartitionName(store.TableEvents, target.ReceivedAt)
	check := func(name string, qs []string) {
		t.Helper()
		ps := scanned(t, db, onlyQuery(t, qs, "events"))
		if len(ps) < 1 || len(ps) > 2 || (ps[0] != want && (len(ps) < 2 || ps[1] != want)) {
			t.Fatalf("%s reads partitions %v, want %s (and at most one neighbour) of %d", name, ps, want, len(parts))
		}
	}
	got, err := st.GetEvent(ctx, "team_1", target.ID)
	if err != nil || got.ID != target.ID || string(got.Body) != string(target.Body) {
		t.Fatalf("GetEvent = %+v, %v", got, err)
	}
	check("GetEvent", log.take())
	got, err = st.FindEvent(ctx, "team_1", target.ID)
	if err != nil || got.ID != target.ID {
		t.Fatalf("FindEvent = %+v, %v", got, err)
	}
	check("FindEvent", log.take())
	got, err = st.FindEvent(ctx, "team_1", *target.ProviderEventID)
	if err != nil || got.ID != target.ID {
		t.Fatalf("FindEvent by provider id = %+v, %v", got, err)
	}
	check("FindEvent by provider id", log.take())

	d, err := st.GetDelivery(ctx, "team_1", dl.ID)
	testenv.Must(t, err)
	log.take()
	atts, err := st.AttemptsOfDelivery(ctx, d)
	if err != nil || len(atts) != 2 || atts[0].N != 1 || atts[1].N != 2 {
		t.Fatalf("attempts = %+v, %v", atts, err)
	}
	all, err := st.Partitions(ctx, store.TableAttempts)
	testenv.Must(t, err)
	ps := scanned(t, db, onlyQuery(t, log.take(), "delivery_attempts"))
	for _, p := range ps {
		if !strings.HasSuffix(p, "_default") && p < store.PartitionName(store.TableAttempts, target.ReceivedAt) {
			t.Fatalf("attempts read %s, a day before the delivery (partitions read: %v)", p, ps)
		}
	}
	if len(ps) >= len(all) {
		t.Fatalf("attempts read every partition: %v", ps)
	}
}

// Rows whose time is not their id's time are still found: the pruned
// lookup is only a first try.
func TestLookupByIDFallsBack(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	now := time.Now().UTC()
	for d := -4; d < 0; d++ {
		_, _, err := st.CreatePartition(ctx, store.TableEvents, now.AddDate(0, 0, d))
		testenv.Must(t, err)
		_, _, err = st.CreatePartition(ctx, store.TableAttempts, now.AddDate(0, 0, d))
		testenv.Must(t, err)
	}
	// An id minted now for an event received three days ago (a clock
	// injected in tests, NewIDAt), and an id that is no ULID at all.
	skewed := event(src, "", now.AddDate(0, 0, -3))
	skewed.ID = store.NewIDAt("evt", now)
	odd := event(src, "", now.AddDate(0, 0, -2))
	odd.ID = "evt_imported-by-hand"
	for _, e := range []*store.Event{skewed, odd} {
		_, err := st.InsertEvent(ctx, e)
		testenv.Must(t, err)
		got, err := st.GetEvent(ctx, "team_1", e.ID)
		if err != nil || got.ID != e.ID {
			t.Fatalf("GetEvent(%s) = %+v, %v", e.ID, got, err)
		}
		got, err = st.FindEvent(ctx, "team_1", e.ID)
		if err != nil || got.ID != e.ID {
			t.Fatalf("FindEvent(%s) = %+v, %v", e.ID, got, err)
		}
	}
	// A provider id whose key is gone (trimmed, or an event stored
	// without one) is still found among the events.
	keyless := event(src, "evt_1Keyless000000000000000", now.AddDate(0, 0, -1))
	_, err := st.InsertEvent(ctx, keyless)
	testenv.Must(t, err)
	_, err = db.NewRaw("DELETE FROM event_keys WHERE event_id = ?", keyless.ID).Exec(ctx)
	testenv.Must(t, err)
	if got, err := st.FindEvent(ctx, "team_1", *keyless.ProviderEventID); err != nil || got.ID != keyless.ID {
		t.Fatalf("FindEvent(keyless provider id) = %+v, %v", got, err)
	}
	if _, err := st.FindEvent(ctx, "team_2", *keyless.ProviderEventID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another team's provider id: %v, want ErrNotFound", err)
	}
	for _, id := range []string{store.NewID("evt"), "evt_nope", skewed.ID + "x"} {
		if _, err := st.GetEvent(ctx, "team_1", id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetEvent(%s): %v, want ErrNotFound", id, err)
		}
	}
	if _, err := st.GetEvent(ctx, "team_2", skewed.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another team's event: %v, want ErrNotFound", err)
	}

	// An attempt stamped two days before its delivery (a worker's clock
	// behind): the delivery counts one attempt, so it is looked for
	// everywhere.
	dl := store.Delivery{ID: store.NewIDAt("dlv", now), TeamID: "team_1", EventID: skewed.ID, EndpointID: ep.ID,
		Status: store.StatusFailed, Attempts: 1, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{dl}))
	a := &store.Attempt{DeliveryID: dl.ID, N: 1, StartedAt: now.AddDate(0, 0, -2), URL: ep.URL,
		RequestHeaders: map[string][]string{}, ResponseHeaders: map[string][]string{}}
	_, err = db.NewInsert().Model(a).Exec(ctx)
	testenv.Must(t, err)
	atts, err := st.AttemptsOfDelivery(ctx, &dl)
	if err != nil || len(atts) != 1 || atts[0].N != 1 {
		t.Fatalf("attempts = %+v, %v", atts, err)
	}
}

func TestIDTime(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	if got, ok := store.IDTime(store.NewIDAt("evt", at)); !ok || !got.Equal(at) {
		t.Fatalf("IDTime = %v, %v; want %v", got, ok, at)
	}
	for _, id := range []string{"", "evt", "evt_", "evt_01", "evt_imported-by-hand", "evt_zzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		if _, ok := store.IDTime(id); ok {
			t.Fatalf("IDTime(%q) decoded", id)
		}
	}
}
