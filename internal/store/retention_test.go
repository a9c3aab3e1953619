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

func event(src *store.Source, pid string, at time.Time) *store.Event {
	e := &store.Event{ID: store.NewIDAt("evt", at), TeamID: "team_1", SourceID: src.ID, ReceivedAt: at,
		Body: []byte(`{"n":1}`), Verified: true}
	if pid != "" {
		e.ProviderEventID = &pid
	}
	return e
}

// partitionOf names the partition holding an event.
func partitionOf(t *testing.T, db bun.IDB, id string) string {
	t.Helper()
	var name string
	testenv.Must(t, db.NewRaw("SELECT tableoid::regclass::text FROM events WHERE id = ?", id).Scan(context.Background(), &name))
	return name
}

func TestDedupAcrossPartitions(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, _ := seed(t, st)
	now := time.Now().UTC()
	_, _, err := st.CreatePartition(ctx, store.TableEvents, now.AddDate(0, 0, -1))
	testenv.Must(t, err)

	// The same provider id a day apart: two partitions, one event.
	late := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(-time.Minute)
	first := event(src, "evt_day", late)
	if ins, err := st.InsertEvent(ctx, first); err != nil || !ins {
		t.Fatalf("first: %v %v", ins, err)
	}
	again := event(src, "evt_day", late.Add(2*time.Minute))
	if ins, err := st.InsertEvent(ctx, again); err != nil || ins || again.ID != first.ID {
		t.Fatalf("retry across midnight: inserted=%v id=%s want %s err=%v", ins, again.ID, first.ID, err)
	}
	if p := partitionOf(t, db, first.ID); p != store.PartitionName("events", late) {
		t.Fatalf("event in %s", p)
	}

	// A batch: a new event, a repeat of an old one, two copies of a new
	// id (the first wins), and events without a provider id.
	batch := []*store.Event{event(src, "evt_a", now), event(src, "evt_day", now), event(src, "evt_b", now),
		event(src, "evt_b", now), event(src, "", now), event(src, "", now)}
	ins, err := st.InsertEvents(ctx, batch)
	testenv.Must(t, err)
	want := []bool{true, false, true, false, true, true}
	for i := range want {
		if ins[i] != want[i] {
			t.Fatalf("inserted = %v, want %v", ins, want)
		}
	}
	if batch[1].ID != first.ID || batch[3].ID != batch[2].ID {
		t.Fatalf("duplicate ids: %s (want %s), %s (want %s)", batch[1].ID, first.ID, batch[3].ID, batch[2].ID)
	}
	n, err := db.NewSelect().Table("events").Count(ctx)
	testenv.Must(t, err)
	if n != 5 {
		t.Fatalf("%d events, want 5", n)
	}
	// FindEvent still finds an event by the provider's id.
	got, err := st.FindEvent(ctx, "team_1", "evt_b")
	if err != nil || got.ID != batch[2].ID {
		t.Fatalf("find by provider id: %+v %v", got, err)
	}
}

func TestInsertOutsidePartitionsLandsInDefault(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	for _, at := range []time.Time{time.Date(1999, 1, 2, 3, 4, 5, 0, time.UTC), time.Now().AddDate(3, 0, 0)} {
		e := event(src, "evt_"+at.Format("2006"), at)
		if ins, err := st.InsertEvent(ctx, e); err != nil || !ins {
			t.Fatalf("insert at %s: %v %v", at, ins, err)
		}
		if p := partitionOf(t, db, e.ID); p != "events_default" {
			t.Fatalf("event at %s in %s", at, p)
		}
		// The delivery path reads it and records an attempt in the
		// attempts' default partition.
		d := store.Delivery{ID: store.NewIDAt("dlv", at), TeamID: "team_1", EventID: e.ID, EndpointID: ep.ID,
			Status: store.StatusPending, NextAttemptAt: &at, CreatedAt: at, UpdatedAt: at}
		testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{d}))
		c, err := st.ClaimAttempt(ctx, d.ID, 1, at, 15*time.Second, time.Minute)
		if err != nil || string(c.Body) != `{"n":1}` {
			t.Fatalf("claim: %+v %v", c, err)
		}
		a := &store.Attempt{DeliveryID: d.ID, N: 1, StartedAt: at, URL: ep.URL, ResponseStatus: 200}
		testenv.Must(t, st.FinishAttempt(ctx, a, store.Outcome{Status: store.StatusSucceeded, EndpointID: ep.ID}, at))
		testenv.Must(t, st.FinishAttempt(ctx, a, store.Outcome{Status: store.StatusSucceeded, EndpointID: ep.ID}, at))
		atts, err := st.AttemptsOf(ctx, d.ID)
		if err != nil || len(atts) != 1 {
			t.Fatalf("attempts %+v %v (a replayed insert must be a no-op)", atts, err)
		}
	}
	// Creating the partition of a day that has rows in the default
	// partition moves them into it.
	future := time.Now().AddDate(3, 0, 0)
	created, moved, err := st.CreatePartition(ctx, store.TableEvents, future)
	if err != nil || !created || moved != 1 {
		t.Fatalf("create partition: created=%v moved=%d err=%v", created, moved, err)
	}
	var p string
	testenv.Must(t, db.NewRaw("SELECT tableoid::regclass::text FROM events WHERE received_at > now() + interval '2 years'").Scan(ctx, &p))
	if p != store.PartitionName("events", future) {
		t.Fatalf("moved event in %s", p)
	}
	if created, _, err := st.CreatePartition(ctx, store.TableEvents, future); err != nil || created {
		t.Fatalf("second create: %v %v", created, err)
	}
}

func TestClaimOfExpiredEventSettles(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	now := time.Now().UTC()
	kept, dropped := event(src, "evt_kept", now), event(src, "evt_dropped", now)
	_, err := st.InsertEvents(ctx, []*store.Event{kept, dropped})
	testenv.Must(t, err)
	_, err = db.ExecContext(ctx, "UPDATE events SET body = '', body_dropped = true WHERE id = ?", dropped.ID)
	testenv.Must(t, err)
	var ds []store.Delivery
	for _, e := range []*store.Event{kept, dropped, event(src, "evt_gone", now)} {
		ds = append(ds, store.Delivery{ID: store.NewID("dlv"), TeamID: "team_1", EventID: e.ID, EndpointID: ep.ID,
			Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now})
	}
	testenv.Must(t, st.InsertDeliveries(ctx, ds))
	if c, err := st.ClaimAttempt(ctx, ds[0].ID, 1, now, 15*time.Second, time.Minute); err != nil || c.Expired != "" {
		t.Fatalf("claim of a kept event: %+v %v", c, err)
	}
	for i, reason := range map[int]string{1: "payload expired", 2: "event expired"} {
		if _, err := st.ClaimAttempt(ctx, ds[i].ID, 1, now, 15*time.Second, time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim of %s: %v", reason, err)
		}
		d, err := st.GetDelivery(ctx, "team_1", ds[i].ID)
		if err != nil || d.Status != store.StatusFailed || d.LastError != reason || d.NextAttemptAt != nil {
			t.Fatalf("delivery after %s: %+v %v", reason, d, err)
		}
	}
}
