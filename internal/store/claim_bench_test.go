package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// BenchmarkClaimFinish claims and finishes deliveries in batches of 1 and
// 32 on the bookkeeping pool, as the worker does: the per-delivery cost
// (ns/op is per delivery) shows what batching the round trips buys.
//
//	go test -run '^$' -bench ClaimFinish -benchtime 3000x ./internal/store/
func BenchmarkClaimFinish(b *testing.B) {
	for _, size := range []int{1, 32} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			db, dsn := testenv.Postgres(b)
			ctx := context.Background()
			pool, err := store.OpenBookkeeping(ctx, dsn)
			testenv.Must(b, err)
			b.Cleanup(func() { _ = pool.Close() })
			st := store.New(db).WithBookkeeping(pool)
			src, ep := seedTB(b, st)
			now := time.Now().UTC()
			ids := make([]string, b.N)
			for i := 0; i < b.N; i += 500 {
				var ds []store.Delivery
				for j := i; j < min(i+500, b.N); j++ {
					e := &store.Event{ID: store.NewID("evt"), TeamID: "team_1", SourceID: src.ID, ReceivedAt: now,
						Body: make([]byte, 1500), Verified: true}
					_, err := st.InsertEvent(ctx, e)
					testenv.Must(b, err)
					ids[j] = store.NewID("dlv")
					ds = append(ds, store.Delivery{ID: ids[j], TeamID: "team_1", EventID: e.ID, EndpointID: ep.ID,
						Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now})
				}
				testenv.Must(b, st.InsertDeliveries(ctx, ds))
			}
			_, err = db.ExecContext(ctx, "ANALYZE")
			testenv.Must(b, err)
			b.ResetTimer()
			for i := 0; i < b.N; i += size {
				reqs := make([]store.ClaimRequest, 0, size)
				for _, id := range ids[i:min(i+size, b.N)] {
					reqs = append(reqs, store.ClaimRequest{DeliveryID: id, N: 1})
				}
				cs, err := st.ClaimAttempts(ctx, reqs, now, 15*time.Second, 15*time.Second)
				testenv.Must(b, err)
				if len(cs) != len(reqs) {
					b.Fatalf("claimed %d of %d", len(cs), len(reqs))
				}
				fs := make([]store.Finished, len(cs))
				for j, c := range cs {
					fs[j] = store.Finished{Attempt: &store.Attempt{DeliveryID: c.DeliveryID, N: c.Attempt, StartedAt: now,
						DurationMS: 1, URL: c.URL, ResponseStatus: 200, RequestHeaders: map[string][]string{"Webhook-Id": {c.EventID}}},
						Outcome: store.Outcome{Status: store.StatusSucceeded, LastStatus: 200, EndpointID: c.EndpointID}}
				}
				testenv.Must(b, st.FinishAttempts(ctx, fs, now))
			}
		})
	}
}

// seedTB is seed for benchmarks.
func seedTB(tb testing.TB, st *store.Store) (*store.Source, *store.Endpoint) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	testenv.Must(tb, st.CreateTeam(ctx, &store.Team{ID: "team_1", Name: "t"}))
	src := &store.Source{ID: store.NewID("src"), TeamID: "team_1", Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
	testenv.Must(tb, st.CreateSource(ctx, src))
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: "team_1", URL: "http://127.0.0.1:1/", Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src.ID}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(tb, st.CreateEndpoint(ctx, ep))
	return src, ep
}
