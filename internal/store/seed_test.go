package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Seeded rows look like ingested ones: ids are ULIDs of received_at (so
// the lookups by id prune as they do for real events), every row is in its
// day partition, and deliveries and attempts add up.
func TestSeed(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	to := time.Now().UTC()
	spec := store.SeedSpec{TeamID: "team_1", Events: 3000, From: to.Add(-72 * time.Hour), To: to, Batch: 700,
		Sources: []store.SeedSource{{ID: src.ID, Endpoints: []store.SeedEndpoint{{ID: ep.ID, URL: ep.URL}, {ID: "ep_other", URL: "https://x.test/"}}}}}
	testenv.Must(t, st.Seed(ctx, spec))

	var n, inDefault, badID, dls, atts, attemptsSum, pending int
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM events WHERE team_id = 'team_1'").Scan(ctx, &n))
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM ONLY events_default").Scan(ctx, &inDefault))
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM deliveries").Scan(ctx, &dls))
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM delivery_attempts").Scan(ctx, &atts))
	testenv.Must(t, db.NewRaw("SELECT sum(attempts) FROM deliveries").Scan(ctx, &attemptsSum))
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM deliveries WHERE status = 'pending'").Scan(ctx, &pending))
	if n != 3000 || inDefault != 0 || dls != 6000 || atts != attemptsSum || pending == 0 {
		t.Fatalf("events %d (default %d), deliveries %d (pending %d), attempts %d of %d", n, inDefault, dls, pending, atts, attemptsSum)
	}
	var rows []struct {
		ID         string    `bun:"id"`
		ReceivedAt time.Time `bun:"received_at"`
	}
	testenv.Must(t, db.NewRaw("SELECT id, received_at FROM events").Scan(ctx, &rows))
	seen := map[string]bool{}
	for _, r := range rows {
		at, ok := store.IDTime(r.ID)
		if !ok || !at.Equal(r.ReceivedAt.Truncate(time.Millisecond)) || seen[r.ID] {
			badID++
		}
		seen[r.ID] = true
	}
	if badID != 0 {
		t.Fatalf("%d of %d seeded ids are not unique ULIDs of their received_at (e.g. %+v)", badID, len(rows), rows[0])
	}
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id AND e.received_at = d.created_at").Scan(ctx, &n))
	if n != dls {
		t.Fatalf("%d of %d deliveries have created_at = their event's received_at", n, dls)
	}
	e, err := st.GetEvent(ctx, "team_1", rows[len(rows)/2].ID)
	if err != nil || len(e.Body) < 200 || e.ProviderEventID == nil || e.EventType == "" {
		t.Fatalf("GetEvent = %+v, %v", e, err)
	}
}
