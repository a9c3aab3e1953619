package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// BenchmarkIngestEvents stores batches of 64 events (1 KB bodies, one
// delivery each) with IngestEvents, on tables that already hold rows (a
// plan made on empty tables can differ). ns/op is per batch.
func BenchmarkIngestEvents(b *testing.B) {
	db, _ := testenv.Postgres(b)
	st := store.New(db)
	ctx := context.Background()
	now := time.Now().UTC()
	testenv.Must(b, st.CreateTeam(ctx, &store.Team{ID: "team_1", Name: "t"}))
	src := &store.Source{ID: store.NewID("src"), TeamID: "team_1", Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
	testenv.Must(b, st.CreateSource(ctx, src))
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_1", URL: "http://127.0.0.1:1/", Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(b, st.CreateEndpoint(ctx, ep))
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'x'
	}
	n := 0
	batch := func() {
		es := make([]*store.Event, 64)
		ds := make([]store.Delivery, 64)
		for i := range es {
			n++
			pid := fmt.Sprintf("evt_%d", n)
			es[i] = &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: time.Now(),
				ProviderEventID: &pid, EventType: "invoice.paid", ContentType: "application/json",
				Headers: map[string][]string{"Stripe-Signature": {"t=1,v1=abc"}}, Body: body, Verified: true}
			ds[i] = store.Delivery{ID: store.NewID("dlv"), EventID: es[i].ID, EndpointID: ep.ID}
		}
		if _, err := st.IngestEvents(ctx, es, ds); err != nil {
			b.Fatal(err)
		}
	}
	for range 20 { // tables that hold data
		batch()
	}
	_, err := db.ExecContext(ctx, "ANALYZE events; ANALYZE event_keys; ANALYZE deliveries")
	testenv.Must(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		batch()
	}
}
