package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// EventsReceivedFrom, the query behind GET /api/v1/listen, returns only
// the asking team's events, with or without a source filter.
func TestEventsReceivedFromIsTeamScoped(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	src := map[string]*store.Source{}
	for _, team := range []string{"team_a", "team_b"} {
		testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: team, Name: team}))
		s := &store.Source{ID: store.NewID("src"), TeamID: team, Name: "s", Provider: "stripe",
			IngestToken: store.NewID("in"), Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
		testenv.Must(t, st.CreateSource(ctx, s))
		src[team] = s
		for range 2 {
			_, err := st.InsertEvent(ctx, &store.Event{ID: store.NewID("evt"), TeamID: team, SourceID: s.ID,
				ReceivedAt: now, Body: []byte(`{}`), Verified: true})
			testenv.Must(t, err)
		}
	}
	from := now.Add(-time.Minute)
	for _, sourceID := range []string{"", src["team_a"].ID} {
		evs, err := st.EventsReceivedFrom(ctx, "team_b", sourceID, from, nil, 100)
		testenv.Must(t, err)
		if sourceID == "" && len(evs) != 2 {
			t.Fatalf("team_b's stream has %d events, want its 2", len(evs))
		}
		for _, e := range evs {
			if e.TeamID != "team_b" {
				t.Fatalf("team_b's stream (source %q) holds %s of %s", sourceID, e.ID, e.TeamID)
			}
		}
	}
}
