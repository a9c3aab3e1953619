package relay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Work arriving after shutdown (a handler that outlived the HTTP drain) is
// refused as unavailable — the provider retries — instead of panicking.
func TestBatcherAndDispatcherAfterShutdown(t *testing.T) {
	db, _ := testenv.Postgres(t)
	r := relay.New(relay.Deps{Store: store.New(db)}, relay.Options{})
	b := r.NewBatcher(2, 8)
	b.Shutdown()
	b.Shutdown() // twice is fine
	_, err := b.Ingest(context.Background(), relay.Inbound{Source: &store.Source{ID: "src_x", TeamID: "t"}})
	if !errors.Is(err, relay.ErrUnavailable) {
		t.Fatalf("ingest after shutdown: %v", err)
	}
	d := r.NewDispatcher(1, 1)
	d.Shutdown()
	d.Submit([]relay.Ingested{{EventID: "evt_x", Deliveries: []string{"dlv_x"}}}) // dropped, no panic
	d.Shutdown()
}
