package relay_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// aged stores an event received at, with one delivery created then and one
// attempt started then, and returns the event and delivery ids.
func aged(t *testing.T, st *store.Store, src, ep, pid string, at time.Time) (string, string) {
	t.Helper()
	ctx := context.Background()
	e := &store.Event{ID: store.NewIDAt("evt", at), TeamID: "team_a", SourceID: src, ReceivedAt: at,
		ProviderEventID: &pid, Body: []byte(`{"id":"` + pid + `"}`), Verified: true}
	if ins, err := st.InsertEvent(ctx, e); err != nil || !ins {
		t.Fatalf("insert %s: %v %v", pid, ins, err)
	}
	d := store.Delivery{ID: store.NewIDAt("dlv", at), TeamID: "team_a", EventID: e.ID, EndpointID: ep,
		Status: store.StatusSucceeded, Attempts: 1, CreatedAt: at, UpdatedAt: at}
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{d}))
	a := &store.Attempt{DeliveryID: d.ID, N: 1, StartedAt: at, URL: "http://127.0.0.1:1/", ResponseStatus: 200}
	testenv.Must(t, st.FinishAttempt(ctx, a, store.Outcome{Status: store.StatusSucceeded, EndpointID: ep}, at))
	return e.ID, d.ID
}

func exists(t *testing.T, db bun.IDB, table, where string, args ...any) bool {
	t.Helper()
	n, err := db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	testenv.Must(t, err)
	return n > 0
}

func TestRetentionDropsExpiredDaysAndPayloads(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	now := time.Now().UTC()
	clock := now
	r := relay.New(relay.Deps{Store: st, Now: func() time.Time { return clock }}, relay.Options{})
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	src := bulkSource(t, st, "team_a")
	ep := bulkEndpoint(t, st, "team_a", "http://127.0.0.1:1/", src)

	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	for _, n := range []int{40, 10, 1} {
		for _, table := range []string{store.TableEvents, store.TableAttempts} {
			_, _, err := st.CreatePartition(ctx, table, day(n))
			testenv.Must(t, err)
		}
	}
	oldEv, oldDlv := aged(t, st, src, ep, "evt_40d", day(40))
	midEv, midDlv := aged(t, st, src, ep, "evt_10d", day(10))
	newEv, _ := aged(t, st, src, ep, "evt_1d", day(1))
	strayOld, _ := aged(t, st, src, ep, "evt_200d", day(200)) // no partition: in the default one
	strayMid, _ := aged(t, st, src, ep, "evt_12d", day(12))

	pol := relay.RetentionPolicy{Retention: 30 * 24 * time.Hour, PayloadRetention: 7 * 24 * time.Hour}
	rep, err := r.RunRetention(ctx, pol)
	testenv.Must(t, err)

	for _, table := range []string{store.TableEvents, store.TableAttempts} {
		parts, err := st.Partitions(ctx, table)
		testenv.Must(t, err)
		var names []string
		for _, p := range parts {
			names = append(names, p.Name)
		}
		for n := -7; n <= 1; n++ { // today and 7 days ahead, and yesterday's
			if !slices.Contains(names, store.PartitionName(table, day(n))) {
				t.Errorf("%s: no partition for %s in %v", table, day(n).Format(time.DateOnly), names)
			}
		}
		for _, n := range []int{40, 200} {
			if slices.Contains(names, store.PartitionName(table, day(n))) {
				t.Errorf("%s: expired partition %s kept", table, store.PartitionName(table, day(n)))
			}
		}
		if !slices.Contains(names, store.PartitionName(table, day(10))) {
			t.Errorf("%s: partition of 10 days ago dropped", table)
		}
	}
	if !slices.Contains(rep.Dropped, store.PartitionName(store.TableEvents, day(40))) || rep.DefaultDeleted != 2 ||
		rep.DeliveriesDeleted != 2 || rep.KeysTrimmed != 2 {
		t.Errorf("report %+v", rep)
	}
	for _, id := range []string{oldEv, strayOld} {
		if exists(t, db, "events", "id = ?", id) {
			t.Errorf("expired event %s kept", id)
		}
	}
	if exists(t, db, "deliveries", "id = ?", oldDlv) || exists(t, db, "delivery_attempts", "delivery_id = ?", oldDlv) {
		t.Error("expired delivery or attempt kept")
	}
	if !exists(t, db, "deliveries", "id = ?", midDlv) || !exists(t, db, "delivery_attempts", "delivery_id = ?", midDlv) {
		t.Error("delivery or attempt within retention dropped")
	}
	// Payloads older than 7 days are gone, in a partition and in the
	// default one; newer ones are intact.
	for id, dropped := range map[string]bool{midEv: true, strayMid: true, newEv: false} {
		e, err := st.GetEvent(ctx, "team_a", id)
		testenv.Must(t, err)
		if e.BodyDropped != dropped || (len(e.Body) == 0) != dropped {
			t.Errorf("event %s: body_dropped=%v body=%q, want dropped=%v", id, e.BodyDropped, e.Body, dropped)
		}
	}

	// Dedup: a retry of an event within retention is still absorbed; the
	// key of an expired one is gone, so its id is new again.
	for pid, dup := range map[string]bool{"evt_10d": true, "evt_40d": false} {
		p := pid
		e := &store.Event{ID: store.NewID("evt"), TeamID: "team_a", SourceID: src, ReceivedAt: now,
			ProviderEventID: &p, Body: []byte(`{"id":"` + p + `"}`), Verified: true} // a retry: the same body
		ins, err := st.InsertEvent(ctx, e)
		if err != nil || ins == dup || (dup && e.ID != midEv) {
			t.Errorf("retry of %s: inserted=%v id=%s err=%v", pid, ins, e.ID, err)
		}
	}

	// Idempotent: a second run finds nothing to do.
	rep, err = r.RunRetention(ctx, pol)
	testenv.Must(t, err)
	if len(rep.Created)+len(rep.Dropped)+len(rep.PayloadPartitions) != 0 || rep.PayloadsDropped+rep.DefaultDeleted+
		rep.DeliveriesDeleted+rep.KeysTrimmed != 0 {
		t.Errorf("second run did %+v", rep)
	}

	// A day later, the next day's partition is created and one more day's
	// payloads go.
	clock = now.AddDate(0, 0, 1)
	rep, err = r.RunRetention(ctx, pol)
	testenv.Must(t, err)
	if len(rep.Created) != 2 || rep.Created[0] != store.PartitionName(store.TableEvents, now.AddDate(0, 0, 8)) {
		t.Errorf("next day created %v", rep.Created)
	}
}

// Every path that creates deliveries sets created_at to the event's
// received_at: ClaimAttempt relies on it to prune partitions.
func TestDeliveriesCreatedAtEventTime(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	ctx := context.Background()
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: &taskLog{},
		Now: func() time.Time { return time.Now().Add(-36 * time.Hour) }}, relay.Options{})
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	src := bulkSource(t, st, "team_a")
	ep := bulkEndpoint(t, st, "team_a", "http://127.0.0.1:1/", src)
	source, err := st.GetSource(ctx, "team_a", src)
	testenv.Must(t, err)

	_, err = r.Ingest(ctx, []relay.Inbound{
		{Source: source, Result: provider.Result{EventID: "evt_x", EventType: "a"}, Body: []byte(`{}`), ReceivedAt: r.Now()},
		{Source: source, Result: provider.Result{EventType: "b"}, Body: []byte(`{}`), ReceivedAt: r.Now().Add(-time.Hour)},
	})
	testenv.Must(t, err)
	_, _, err = r.SendTestEvent(ctx, relay.SystemActor("team_a"), ep, "")
	testenv.Must(t, err)
	var total, mismatched int
	testenv.Must(t, db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE e.received_at IS DISTINCT FROM d.created_at)
		FROM deliveries d LEFT JOIN events e ON e.id = d.event_id`).Scan(ctx, &total, &mismatched))
	if total != 3 || mismatched != 0 {
		t.Fatalf("%d deliveries, %d with created_at != their event's received_at", total, mismatched)
	}
}
