package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The events list filtered by endpoint or by status succeeded checks each
// event's deliveries as it walks the team's events newest first (a
// SubPlan), instead of merging with every team's deliveries in event
// order; the other statuses name the team for the partial index of
// migration 0014. Plans, not timings: see make bench-size for those.
func TestListEventsFilterPlans(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	src, ep := seed(t, st)
	now := time.Now().UTC()
	e := event(src, "", now)
	_, err := st.InsertEvent(ctx, e)
	testenv.Must(t, err)
	testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{{ID: store.NewIDAt("dlv", now), TeamID: "team_1", EventID: e.ID,
		EndpointID: ep.ID, Status: store.StatusSucceeded, CreatedAt: now, UpdatedAt: now}}))
	log := &queryLog{}
	db.AddQueryHook(log)
	for _, c := range []struct {
		f       store.EventFilter
		subplan bool
		want    string
	}{
		{store.EventFilter{TeamID: "team_1", EndpointID: ep.ID}, true, ""},
		{store.EventFilter{TeamID: "team_1", Status: store.StatusSucceeded}, true, ""},
		{store.EventFilter{TeamID: "team_1", Status: store.StatusFailed}, false, "d.team_id = event.team_id"},
		{store.EventFilter{TeamID: "team_1", Status: store.StatusPending}, false, "d.team_id = event.team_id"},
		// The next page starts the deliveries' read at the cursor, too.
		{store.EventFilter{TeamID: "team_1", Status: store.StatusFailed, Before: "evt_zz"}, false, "d.event_id < 'evt_zz'"},
		{store.EventFilter{TeamID: "team_1", Status: store.StatusFailed, Since: now.Add(-time.Hour)}, false,
			"d.event_id >= 'evt_"},
	} {
		got, err := st.ListEvents(ctx, c.f)
		testenv.Must(t, err)
		if wantN := map[bool]int{true: 1, false: 0}[c.f.Status == "" || c.f.Status == store.StatusSucceeded]; len(got) != wantN {
			t.Fatalf("%+v: %d events, want %d", c.f, len(got), wantN)
		}
		q := onlyQuery(t, log.take(), "events")
		var lines []string
		testenv.Must(t, db.NewRaw("EXPLAIN "+q).Scan(ctx, &lines))
		log.take()
		plan := strings.Join(lines, "\n")
		if c.subplan != strings.Contains(plan, "SubPlan") {
			t.Fatalf("%+v: SubPlan in plan = %v, want %v:\n%s", c.f, !c.subplan, c.subplan, plan)
		}
		if c.want != "" && !strings.Contains(q, c.want) {
			t.Fatalf("%+v: query does not say %q: %s", c.f, c.want, q)
		}
	}
}
