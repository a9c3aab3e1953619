package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// One event PostgreSQL refuses for any reason other than being unreachable
// (here a provider id too long for the dedup index: class 54, not 22/23)
// fails alone; its batch neighbours are stored and acknowledged.
func TestBatchCommitIsolatesABadEvent(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	r := New(Deps{Store: st}, Options{})
	src := &store.Source{ID: "src_batch", TeamID: "team_batch"}
	now := time.Now()
	mk := func(id string) *pendingIngest {
		return &pendingIngest{ctx: context.Background(), done: make(chan ingestResult, 1), in: Inbound{
			Source: src, Result: provider.Result{EventID: id, EventType: "invoice.paid", Verified: true},
			Body: []byte(`{"id":"` + id + `"}`), ContentType: "application/json", ReceivedAt: now}}
	}
	raw := make([]byte, 6000) // random: TOAST cannot compress it under the index row limit
	_, _ = rand.Read(raw)
	bad := mk("evt_" + hex.EncodeToString(raw))
	good := []*pendingIngest{mk("evt_a"), mk("evt_b"), mk("evt_c")}
	b := &Batcher{r: r, maxBatch: 8}
	b.commit([]*pendingIngest{good[0], bad, good[1], good[2]})
	if res := <-bad.done; res.err == nil {
		t.Fatal("the oversized event was acknowledged")
	}
	for i, p := range good {
		if res := <-p.done; res.err != nil || res.out.EventID == "" {
			t.Fatalf("good event %d failed with its bad neighbour: %v", i, res.err)
		}
	}
	var n int
	testenv.Must(t, db.NewRaw("SELECT count(*) FROM events").Scan(context.Background(), &n))
	if n != len(good) {
		t.Fatalf("%d events stored, want %d", n, len(good))
	}
}
