package worker_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/worker"
)

// droppingQueue accepts tasks and keeps them nowhere: a delivery can then
// only be sent through its wake message.
type droppingQueue struct{ n atomic.Int64 }

func (q *droppingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	q.n.Add(1)
	return &asynq.TaskInfo{}, nil
}

// An idle worker sends a task announced on the wake channel at once,
// instead of at its next poll: here the task never reaches Redis's queue,
// so the wake message is the only way the delivery can arrive. (A poll
// interval of an hour would show it too, but asynq's shutdown waits out
// the processor's sleep.)
func TestIdleWorkerSendsAnnouncedTask(t *testing.T) {
	db, _ := testenv.Postgres(t)
	ro := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: ro.Addr, DB: ro.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	e := &fairEnv{t: t, st: store.New(db)}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	queue := &droppingQueue{}
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	e.relay = relay.New(relay.Deps{Store: e.st, Box: box, Enqueuer: queue, Guard: guard, Waker: relay.NewRedisWaker(rdb),
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard})},
		relay.Options{Version: "test", DeliveryTimeout: time.Minute})
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
	}))
	t.Cleanup(srv.Close)
	src, ep := e.team("team_a", srv.URL)

	w := worker.New(e.relay, ro, slog.New(slog.DiscardHandler), worker.Options{Concurrency: 4, Wake: rdb,
		PollInterval: 50 * time.Millisecond, DelayedCheckInterval: time.Second, ShutdownTimeout: 3 * time.Second})
	testenv.Must(t, w.Start())
	t.Cleanup(w.Shutdown)
	ctx := context.Background()
	// Wait until the worker's subscription is in place (a message
	// published before it would reach nobody).
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n, err := rdb.PubSubNumSub(ctx, relay.WakeChannel(rdb)).Result()
		testenv.Must(t, err)
		if n[relay.WakeChannel(rdb)] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker never subscribed to the wake channel")
		}
	}

	in := e.events("team_a", src, ep, 1)
	e.relay.Dispatch(ctx, in)
	if queue.n.Load() != 1 {
		t.Fatalf("%d tasks enqueued, want 1", queue.n.Load())
	}
	select {
	case id := <-got:
		if id != in[0].EventID {
			t.Fatalf("endpoint got event %q, want %q", id, in[0].EventID)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the announced delivery never arrived")
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d, err := e.st.GetDelivery(ctx, "team_a", in[0].Deliveries[0])
		testenv.Must(t, err)
		if d.Status == store.StatusSucceeded && d.Attempts == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery after its woken attempt: %+v", d)
		}
	}
}
