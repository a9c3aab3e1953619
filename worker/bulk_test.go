package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
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

// recorder is an endpoint that answers 200 and keeps the delivery ids it got.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (s *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ids = append(s.ids, r.Header.Get("X-Hookrelay-Delivery"))
	s.mu.Unlock()
}

func (s *recorder) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.ids)
	slices.Sort(out)
	return out
}

type bulkEnv struct {
	t     *testing.T
	st    *store.Store
	redis asynq.RedisClientOpt
	relay *relay.Relay
	team  string
	src   string
	sink  *recorder
	addr  string // the sink's
}

func newBulkEnv(t *testing.T) *bulkEnv {
	db, _ := testenv.Postgres(t)
	e := &bulkEnv{t: t, st: store.New(db), redis: testenv.Redis(t), team: "team_a", sink: &recorder{}}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	aq := asynq.NewClient(e.redis)
	t.Cleanup(func() { _ = aq.Close() })
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	e.relay = relay.New(relay.Deps{Store: e.st, Box: box, Enqueuer: aq, Guard: guard,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard})}, relay.Options{Version: "test"})
	ctx := context.Background()
	testenv.Must(t, e.st.CreateTeam(ctx, &store.Team{ID: e.team, Name: "A"}))
	now := time.Now().UTC()
	src := &store.Source{ID: store.NewID("src"), TeamID: e.team, Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, e.st.CreateSource(ctx, src))
	e.src = src.ID
	srv := httptest.NewServer(e.sink)
	t.Cleanup(srv.Close)
	e.addr = srv.Listener.Addr().String()
	return e
}

// endpoint creates an endpoint to the sink, signed like any other.
func (e *bulkEnv) endpoint(path string) string {
	url := "http://" + e.addr + path
	ids := []string{e.src}
	ep, _, err := e.relay.CreateEndpoint(context.Background(), relay.SystemActor(e.team),
		relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(e.t, err)
	return ep.ID
}

// failed stores n events with a delivery to ep that failed its one attempt.
func (e *bulkEnv) failed(ep string, n int) []string {
	ctx := context.Background()
	var ids []string
	for range n {
		now := time.Now().UTC()
		ev := &store.Event{ID: store.NewID("evt"), TeamID: e.team, SourceID: e.src, ReceivedAt: now,
			EventType: "invoice.paid", ContentType: "application/json", Body: []byte(`{}`), Verified: true}
		_, err := e.st.InsertEvent(ctx, ev)
		testenv.Must(e.t, err)
		d := store.Delivery{ID: store.NewID("dlv"), TeamID: e.team, EventID: ev.ID, EndpointID: ep,
			Status: store.StatusFailed, Attempts: 1, LastStatus: 500, CreatedAt: now, UpdatedAt: now}
		testenv.Must(e.t, e.st.InsertDeliveries(ctx, []store.Delivery{d}))
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}

func (e *bulkEnv) startWorker() {
	w := worker.New(e.relay, e.redis, slog.New(slog.DiscardHandler), worker.Options{Concurrency: 4,
		PollInterval: 10 * time.Millisecond, DelayedCheckInterval: 100 * time.Millisecond, ShutdownTimeout: 3 * time.Second})
	testenv.Must(e.t, w.Start())
	e.t.Cleanup(w.Shutdown)
}

func (e *bulkEnv) job(id string) *store.BulkJob {
	j, err := e.st.GetBulkJob(context.Background(), e.team, id)
	testenv.Must(e.t, err)
	return j
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// downQueue is an Enqueuer whose Redis is gone.
type downQueue struct{}

func (downQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("redis: connection refused")
}

func TestBulkRedeliveryThroughWorker(t *testing.T) {
	e := newBulkEnv(t)
	ep1, ep2 := e.endpoint("/one"), e.endpoint("/two")
	want := e.failed(ep1, 5)
	others := e.failed(ep2, 3)
	// The job is started while Redis is unreachable: the worker resumes it
	// from Postgres when it starts.
	api := relay.New(relay.Deps{Store: e.st, Enqueuer: downQueue{}}, relay.Options{})
	j, err := api.StartBulkThrottled(context.Background(), relay.SystemActor(e.team),
		store.BulkFilter{EndpointID: ep1}, relay.BulkThrottle{Batch: 2, Pause: 50 * time.Millisecond})
	testenv.Must(t, err)
	e.startWorker()

	waitFor(t, "the job to finish", func() bool { return e.job(j.ID).Status == store.BulkFinished })
	for _, id := range want {
		waitFor(t, id+" to succeed", func() bool {
			d, err := e.st.GetDelivery(context.Background(), e.team, id)
			return err == nil && d.Status == store.StatusSucceeded && d.Attempts == 2
		})
	}
	// Every step has run and every task it queued is done: anything extra
	// would have been sent by now.
	waitFor(t, "the queues to drain", e.idle)
	if got := e.sink.got(); !slices.Equal(got, want) {
		t.Fatalf("sink got %v, want exactly %v", got, want)
	}
	for _, id := range others {
		if d, _ := e.st.GetDelivery(context.Background(), e.team, id); d.Status != store.StatusFailed {
			t.Errorf("delivery %s of another endpoint is %s", id, d.Status)
		}
	}
	if j := e.job(j.ID); j.Done != 5 || j.Total != 5 {
		t.Fatalf("job %+v", j)
	}
}

func TestBulkCancelStopsWorker(t *testing.T) {
	e := newBulkEnv(t)
	ep := e.endpoint("/")
	ids := e.failed(ep, 6)
	e.startWorker()
	a := relay.SystemActor(e.team)
	j, err := e.relay.StartBulkThrottled(context.Background(), a, store.BulkFilter{},
		relay.BulkThrottle{Batch: 1, Pause: 400 * time.Millisecond})
	testenv.Must(t, err)
	waitFor(t, "the first step", func() bool { return e.job(j.ID).Done >= 1 })
	_, err = e.relay.CancelBulk(context.Background(), a, j.ID)
	testenv.Must(t, err)
	done := e.job(j.ID).Done
	// The step queued before the cancel runs (or was removed) and queues
	// no other: once nothing is left in Redis, the job has stopped.
	waitFor(t, "the queues to drain", e.idle)
	if j := e.job(j.ID); j.Done != done || j.Status != store.BulkCancelled || done >= len(ids) {
		t.Fatalf("after cancel at %d: %+v", done, j)
	}
	waitFor(t, "the redelivered ones", func() bool { return len(e.sink.got()) == done })
	if got := e.sink.got(); !slices.Equal(got, ids[:done]) {
		t.Fatalf("sink got %v, want %v", got, ids[:done])
	}
}

// idle reports whether no task of any queue is waiting, scheduled,
// running or set to retry.
func (e *bulkEnv) idle() bool {
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	queues, err := insp.Queues()
	testenv.Must(e.t, err)
	for _, q := range queues {
		info, err := insp.GetQueueInfo(q)
		testenv.Must(e.t, err)
		if info.Pending+info.Scheduled+info.Active+info.Retry > 0 {
			return false
		}
	}
	return true
}
