package relay_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// taskLog is an Enqueuer that keeps the tasks instead of queueing them.
type taskLog struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

func (l *taskLog) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tasks = append(l.tasks, t)
	return &asynq.TaskInfo{}, nil
}

// take removes and returns the kept tasks of a type.
func (l *taskLog) take(typ string) []*asynq.Task {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out, rest []*asynq.Task
	for _, t := range l.tasks {
		if t.Type() == typ {
			out = append(out, t)
		} else {
			rest = append(rest, t)
		}
	}
	l.tasks = rest
	return out
}

// bulkWorld is two teams' sources, endpoints and deliveries in the store.
type bulkWorld struct {
	st       *store.Store
	team     string
	src      [2]string
	ep       [2]string
	otherEP  string // team B's
	otherDLV string
}

func newBulkWorld(t *testing.T) (*relay.Relay, *taskLog, *bulkWorld) {
	t.Helper()
	db, _ := testenv.Postgres(t)
	w := &bulkWorld{st: store.New(db), team: "team_a"}
	log := &taskLog{}
	r := relay.New(relay.Deps{Store: w.st, Enqueuer: log}, relay.Options{})
	ctx := context.Background()
	for _, team := range []string{"team_a", "team_b"} {
		testenv.Must(t, w.st.CreateTeam(ctx, &store.Team{ID: team, Name: team}))
	}
	for i := range w.src {
		w.src[i] = bulkSource(t, w.st, w.team)
		w.ep[i] = bulkEndpoint(t, w.st, w.team, "http://127.0.0.1:1/", w.src[i])
	}
	w.otherEP = bulkEndpoint(t, w.st, "team_b", "http://127.0.0.1:1/", bulkSource(t, w.st, "team_b"))
	return r, log, w
}

func bulkSource(t *testing.T, st *store.Store, team string) string {
	now := time.Now().UTC()
	src := &store.Source{ID: store.NewID("src"), TeamID: team, Name: "s", Provider: "stripe",
		IngestToken: store.NewID("in"), CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateSource(context.Background(), src))
	return src.ID
}

func bulkEndpoint(t *testing.T, st *store.Store, team, url, src string) string {
	now := time.Now().UTC()
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: team, URL: url, Enabled: true,
		SigningScheme: "standard-webhooks", SourceIDs: []string{src}, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, st.CreateEndpoint(context.Background(), ep))
	return ep.ID
}

// seedDeliveries stores n events of a type from src, each with one
// delivery to ep in the given status after one attempt, and returns the
// delivery ids in order.
func seedDeliveries(t *testing.T, st *store.Store, team, src, ep, typ, status string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for range n {
		now := time.Now().UTC()
		e := &store.Event{ID: store.NewID("evt"), TeamID: team, SourceID: src, ReceivedAt: now, EventType: typ,
			ContentType: "application/json", Body: []byte(`{"type":"` + typ + `"}`), Verified: true}
		_, err := st.InsertEvent(ctx, e)
		testenv.Must(t, err)
		d := store.Delivery{ID: store.NewID("dlv"), TeamID: team, EventID: e.ID, EndpointID: ep, Status: status,
			Attempts: 1, LastStatus: 500, CreatedAt: now, UpdatedAt: now}
		testenv.Must(t, st.InsertDeliveries(ctx, []store.Delivery{d}))
		ids = append(ids, d.ID)
	}
	slices.Sort(ids) // ids minted in one millisecond are not in order
	return ids
}

func statusOf(t *testing.T, st *store.Store, team, id string) string {
	t.Helper()
	d, err := st.GetDelivery(context.Background(), team, id)
	testenv.Must(t, err)
	return d.Status
}

func TestCountBulk(t *testing.T) {
	r, _, w := newBulkWorld(t)
	ctx := context.Background()
	seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusFailed, 3)
	seedDeliveries(t, w.st, w.team, w.src[1], w.ep[0], "b", store.StatusFailed, 2)
	seedDeliveries(t, w.st, w.team, w.src[1], w.ep[1], "a", store.StatusFailed, 2)
	seedDeliveries(t, w.st, w.team, w.src[0], w.ep[0], "a", store.StatusSucceeded, 2)
	seedDeliveries(t, w.st, "team_b", "src_b", w.otherEP, "a", store.StatusFailed, 4)
	hour := time.Hour
	for _, tc := range []struct {
		name string
		f    store.BulkFilter
		want int
	}{
		{"all", store.BulkFilter{}, 7},
		{"endpoint", store.BulkFilter{EndpointID: w.ep[0]}, 5},
		{"source", store.BulkFilter{SourceID: w.src[1]}, 4},
		{"type", store.BulkFilter{EventType: "b"}, 2},
		{"endpoint and type", store.BulkFilter{EndpointID: w.ep[0], EventType: "a"}, 3},
		{"other team's endpoint", store.BulkFilter{EndpointID: w.otherEP}, 0},
		{"in range", store.BulkFilter{Since: time.Now().Add(-hour), Until: time.Now().Add(hour)}, 7},
		{"before range", store.BulkFilter{Until: time.Now().Add(-hour)}, 0},
		{"after range", store.BulkFilter{Since: time.Now().Add(hour)}, 0},
	} {
		n, err := r.CountBulk(ctx, w.team, tc.f)
		if err != nil || n != tc.want {
			t.Errorf("%s: count = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	var ve *relay.ValidationError
	_, err := r.CountBulk(ctx, w.team, store.BulkFilter{Since: time.Now(), Until: time.Now().Add(-hour)})
	if !errors.As(err, &ve) || ve.Field != "until" {
		t.Fatalf("until before since: %v", err)
	}
	_, err = r.StartBulk(ctx, relay.SystemActor(w.team), store.BulkFilter{EventType: "nothing"})
	if !errors.As(err, &ve) {
		t.Fatalf("start with no match: %v", err)
	}
}

// runSteps runs queued bulk steps until none is left and returns how many ran.
func runSteps(t *testing.T, r *relay.Relay, log *taskLog) int {
	t.Helper()
	n := 0
	for {
		ts := log.take(task.TypeBulkRedeliver)
		if len(ts) == 0 {
			return n
		}
		for _, tk := range ts {
			p, err := task.ParseBulkRedeliver(tk)
			testenv.Must(t, err)
			testenv.Must(t, r.BulkStep(context.Background(), p))
			n++
		}
	}
}

func manualIDs(t *testing.T, log *taskLog) []string {
	var ids []string
	for _, tk := range log.take(task.TypeDeliver) {
		p, err := task.ParseDeliver(tk)
		testenv.Must(t, err)
		if !p.Manual || p.Attempt != 2 {
			t.Errorf("deliver task %+v: want manual attempt 2", p)
		}
		ids = append(ids, p.DeliveryID)
	}
	slices.Sort(ids)
	return ids
}
