package migrations_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/migrations"
)

// emptyDB creates a database with no schema, dropped at cleanup.
func emptyDB(t *testing.T) *bun.DB {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, testenv.AdminDSN())
	testenv.Must(t, err)
	defer admin.Close()
	name := strings.ToLower(store.NewID("hookrelay_test"))
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name)
	testenv.Must(t, err)
	dsn := testenv.AdminDSN()
	q := ""
	if i := strings.Index(dsn, "?"); i >= 0 {
		dsn, q = dsn[:i], dsn[i:]
	}
	db, err := store.Open(ctx, dsn[:strings.LastIndex(dsn, "/")+1]+name+q)
	testenv.Must(t, err)
	t.Cleanup(func() {
		_ = db.Close()
		if a, err := store.Open(context.Background(), testenv.AdminDSN()); err == nil {
			_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = a.Close()
		}
	})
	return db
}

// migrateBefore applies the migrations numbered below prefix.
func migrateBefore(t *testing.T, db *bun.DB, prefix string) {
	t.Helper()
	older := fstest.MapFS{}
	files, err := fs.Glob(os.DirFS("."), "*.sql")
	testenv.Must(t, err)
	for _, f := range files {
		if f < prefix {
			b, err := os.ReadFile(f)
			testenv.Must(t, err)
			older[f] = &fstest.MapFile{Data: b}
		}
	}
	ms := migrate.NewMigrations()
	testenv.Must(t, ms.Discover(older))
	m := migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))
	testenv.Must(t, m.Init(context.Background()))
	_, err = m.Migrate(context.Background())
	testenv.Must(t, err)
}

func TestPartitionMigrationKeepsRows(t *testing.T) {
	db := emptyDB(t)
	ctx := context.Background()
	migrateBefore(t, db, "0005")

	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		testenv.Must(t, err)
	}
	old := time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC)
	now := time.Now().UTC()
	for i, at := range []time.Time{old, now} {
		pid := []string{"evt_old", "evt_new"}[i]
		id := store.NewIDAt("evt", at)
		exec(`INSERT INTO events (id, team_id, source_id, received_at, provider_event_id, body, verified)
			VALUES (?, 'team_1', 'src_1', ?, ?, ?, true)`, id, at, pid, []byte(pid))
		dlv := store.NewIDAt("dlv", at)
		exec(`INSERT INTO deliveries (id, team_id, event_id, endpoint_id, created_at, updated_at)
			VALUES (?, 'team_1', ?, 'ep_1', ?, ?)`, dlv, id, at, at)
		exec(`INSERT INTO delivery_attempts (delivery_id, n, started_at, duration_ms, url) VALUES (?, 1, ?, 5, 'http://x/')`,
			dlv, at)
	}
	exec(`INSERT INTO events (id, team_id, source_id, received_at, body, verified)
		VALUES (?, 'team_1', 'src_1', ?, '\x00ff', true)`, store.NewID("evt"), now)

	m, err := migrations.NewMigrator(db)
	testenv.Must(t, err)
	applied, err := m.Up(ctx)
	testenv.Must(t, err)
	if len(applied) == 0 || !strings.HasPrefix(applied[0], "0005") {
		t.Fatalf("applied %v", applied)
	}
	st := store.New(db)
	for _, p := range []string{"events_p20240229", store.PartitionName("events", now),
		store.PartitionName("delivery_attempts", now.AddDate(0, 0, 7))} {
		var ok bool
		testenv.Must(t, db.NewRaw("SELECT to_regclass(?) IS NOT NULL", p).Scan(ctx, &ok))
		if !ok {
			t.Errorf("no partition %s", p)
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		testenv.Must(t, db.NewRaw(q).Scan(ctx, &n))
		return n
	}
	if n := count("SELECT count(*) FROM events"); n != 3 {
		t.Fatalf("%d events after up", n)
	}
	if n := count("SELECT count(*) FROM events_default") + count("SELECT count(*) FROM delivery_attempts_default"); n != 0 {
		t.Fatalf("%d rows in default partitions", n)
	}
	if n := count("SELECT count(*) FROM delivery_attempts"); n != 2 {
		t.Fatalf("%d attempts after up", n)
	}
	// The keys came along: a retry of the old event is still a duplicate.
	pid := "evt_old"
	e := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: "src_1", ReceivedAt: now,
		ProviderEventID: &pid, Body: []byte(`{}`), Verified: true}
	if ins, err := st.InsertEvent(ctx, e); err != nil || ins {
		t.Fatalf("retry after migration: inserted=%v err=%v", ins, err)
	}
	got, err := st.GetEvent(ctx, "team_1", e.ID)
	if err != nil || string(got.Body) != "evt_old" || !got.ReceivedAt.Equal(old) {
		t.Fatalf("old event %+v %v", got, err)
	}

	// Down restores plain tables with the rows.
	if _, err := m.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT count(*) FROM events"); n != 3 {
		t.Fatalf("%d events after down", n)
	}
	if n := count("SELECT count(*) FROM delivery_attempts"); n != 2 {
		t.Fatalf("%d attempts after down", n)
	}
	if n := count(`SELECT count(*) FROM pg_class WHERE relname ~ '_p[0-9]{8}$' OR relname IN ('event_keys', 'events_default')`); n != 0 {
		t.Fatalf("%d partition tables left after down", n)
	}
	// And up again works on the restored tables.
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT count(*) FROM events"); n != 3 {
		t.Fatalf("%d events after up again", n)
	}
}
