package worker_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/worker"
)

// blocker is an endpoint that holds every request until release is
// closed, and tells the test when one arrives.
type blocker struct {
	release chan struct{}
	arrived chan struct{}
	mu      sync.Mutex
	now     int // requests in flight
	most    int // the most ever in flight at once
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.now++
	b.most = max(b.most, b.now)
	b.mu.Unlock()
	select {
	case b.arrived <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-r.Context().Done():
	}
	b.mu.Lock()
	b.now--
	b.mu.Unlock()
}

func (b *blocker) maxInFlight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.most
}

type fairEnv struct {
	t     *testing.T
	st    *store.Store
	relay *relay.Relay
}

// team creates a team with a source and one endpoint to url, and returns
// the source and endpoint ids.
func (e *fairEnv) team(id, url string) (string, string) {
	ctx := context.Background()
	testenv.Must(e.t, e.st.CreateTeam(ctx, &store.Team{ID: id, Name: id}))
	now := time.Now().UTC()
	src := &store.Source{ID: store.NewID("src"), TeamID: id, Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), CreatedAt: now, UpdatedAt: now}
	testenv.Must(e.t, e.st.CreateSource(ctx, src))
	ids := []string{src.ID}
	ep, _, err := e.relay.CreateEndpoint(ctx, relay.SystemActor(id), relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(e.t, err)
	return src.ID, ep.ID
}

// events stores n events of the team with a pending delivery to ep each,
// as ingest does, and returns them as Dispatch takes them.
func (e *fairEnv) events(team, src, ep string, n int) []relay.Ingested {
	ctx := context.Background()
	var out []relay.Ingested
	for range n {
		now := time.Now().UTC()
		ev := &store.Event{ID: store.NewID("evt"), TeamID: team, SourceID: src, ReceivedAt: now,
			EventType: "invoice.paid", ContentType: "application/json", Body: []byte(`{"fair":true}`), Verified: true}
		_, err := e.st.InsertEvent(ctx, ev)
		testenv.Must(e.t, err)
		d := store.Delivery{ID: store.NewID("dlv"), TeamID: team, EventID: ev.ID, EndpointID: ep,
			Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
		testenv.Must(e.t, e.st.InsertDeliveries(ctx, []store.Delivery{d}))
		out = append(out, relay.Ingested{EventID: ev.ID, Deliveries: []string{d.ID}, Endpoints: []string{ep}})
	}
	return out
}

// attempts returns the attempt rows of the given ingested deliveries.
func (e *fairEnv) attempts(in []relay.Ingested) [][]store.Attempt {
	var out [][]store.Attempt
	for _, x := range in {
		atts, err := e.st.AttemptsOf(context.Background(), x.Deliveries[0])
		testenv.Must(e.t, err)
		out = append(out, atts)
	}
	return out
}

// One team's endpoint that never answers, with many deliveries queued,
// holds at most its share of the worker's slots: another team's
// deliveries are sent and recorded while the slow endpoint's requests are
// still blocked, and the slow team's deliveries, postponed meanwhile, each
// succeed on attempt 1 once the endpoint answers.
func TestSlowEndpointCannotStarveAnotherTeam(t *testing.T) {
	db, _ := testenv.Postgres(t)
	redis := testenv.Redis(t)
	e := &fairEnv{t: t, st: store.New(db)}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	aq := asynq.NewClient(redis)
	t.Cleanup(func() { _ = aq.Close() })
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	e.relay = relay.New(relay.Deps{Store: e.st, Box: box, Enqueuer: aq, Guard: guard,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard})},
		relay.Options{Version: "test", DeliveryTimeout: time.Minute})

	slow := &blocker{release: make(chan struct{}), arrived: make(chan struct{}, 1)}
	slowSrv := httptest.NewServer(slow)
	t.Cleanup(slowSrv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(slow.release) }) }
	t.Cleanup(release) // before the server closes: cleanups run last-in first-out
	var fastMu sync.Mutex
	fastGot := 0
	fastSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fastMu.Lock()
		fastGot++
		fastMu.Unlock()
	}))
	t.Cleanup(fastSrv.Close)

	slowSrc, slowEp := e.team("team_slow", slowSrv.URL)
	fastSrc, fastEp := e.team("team_fast", fastSrv.URL)
	ctx := context.Background()
	// The slow team's backlog: single events (one task each) and a batch
	// (one group task), far more than the worker has slots.
	slowIn := e.events("team_slow", slowSrc, slowEp, 16)
	for _, x := range slowIn {
		e.relay.Dispatch(ctx, []relay.Ingested{x})
	}
	batch := e.events("team_slow", slowSrc, slowEp, 8)
	e.relay.Dispatch(ctx, batch)
	slowIn = append(slowIn, batch...)

	const concurrency = 4
	w := worker.New(e.relay, redis, slog.New(slog.DiscardHandler), worker.Options{Concurrency: concurrency,
		PollInterval: 10 * time.Millisecond, DelayedCheckInterval: 100 * time.Millisecond, ShutdownTimeout: 3 * time.Second})
	testenv.Must(t, w.Start())
	t.Cleanup(w.Shutdown)
	select {
	case <-slow.arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the slow endpoint never got a request")
	}

	fastIn := e.events("team_fast", fastSrc, fastEp, 5)
	e.relay.Dispatch(ctx, fastIn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		done := 0
		for _, atts := range e.attempts(fastIn) {
			if len(atts) == 1 && atts[0].ResponseStatus == 200 {
				done++
			}
		}
		if done == len(fastIn) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries of the fast team recorded while the slow endpoint held its requests", done, len(fastIn))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Still blocked: the slow endpoint has answered nothing yet.
	for i, atts := range e.attempts(slowIn) {
		if len(atts) != 0 {
			t.Fatalf("slow delivery %d has attempts %+v before its endpoint answered", i, atts)
		}
	}
	if most, share := slow.maxInFlight(), max(1, concurrency/4); most > share*relay.Wave {
		t.Fatalf("the slow endpoint had %d requests in flight, share is %d tasks of %d", most, share, relay.Wave)
	}

	release()
	deadline = time.Now().Add(60 * time.Second)
	for {
		done := 0
		for _, atts := range e.attempts(slowIn) {
			if len(atts) == 1 && atts[0].N == 1 && atts[0].ResponseStatus == 200 {
				done++
			}
		}
		if done == len(slowIn) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slow deliveries succeeded on attempt 1 after the endpoint answered", done, len(slowIn))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, x := range slowIn {
		d, err := e.st.GetDelivery(ctx, "team_slow", x.Deliveries[0])
		testenv.Must(t, err)
		if d.Status != store.StatusSucceeded || d.Attempts != 1 {
			t.Fatalf("slow delivery after release: %+v (postponements must not use attempts)", d)
		}
	}
}
