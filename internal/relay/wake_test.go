package relay_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

type wakeLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *wakeLog) Wake(_ context.Context, payload []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, string(payload))
	return nil
}

func (l *wakeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

// Dispatch announces what it enqueued when it is a few tasks (a quiet
// moment), each message the task's own payload; a larger dispatch (load)
// and a task Redis refused are not announced.
func TestDispatchAnnouncesFewTasks(t *testing.T) {
	wl := &wakeLog{}
	tasks := &taskLog{}
	r := relay.New(relay.Deps{Enqueuer: tasks, Waker: wl}, relay.Options{})
	ctx := context.Background()
	in := func(eps ...string) []relay.Ingested {
		var out []relay.Ingested
		for i, ep := range eps {
			out = append(out, relay.Ingested{EventID: "evt_" + ep, Deliveries: []string{"dlv_" + ep + string(rune('a'+i))}, Endpoints: []string{ep}})
		}
		return out
	}

	r.Dispatch(ctx, in("ep_1", "ep_2", "ep_1"))
	msgs := wl.take()
	queued := tasks.take(task.TypeDeliver)
	if len(queued) != 2 || len(msgs) != 2 {
		t.Fatalf("%d tasks, %d wake messages; want 2 and 2", len(queued), len(msgs))
	}
	for i, m := range msgs {
		p, err := relay.ParseWake(m)
		testenv.Must(t, err)
		want, err := task.ParseDeliver(queued[i])
		testenv.Must(t, err)
		if p.DeliveryID != want.DeliveryID || p.EndpointID != want.EndpointID || p.Attempt != 1 || !slices.Equal(p.More, want.More) {
			t.Fatalf("wake message %d announces %+v, the task is %+v", i, p, want)
		}
	}

	r.Dispatch(ctx, in("ep_1", "ep_2", "ep_3", "ep_4", "ep_5"))
	if msgs := wl.take(); len(msgs) != 0 || len(tasks.take(task.TypeDeliver)) != 5 {
		t.Fatalf("five tasks in one dispatch: %d wake messages, want none", len(msgs))
	}

	if _, err := relay.ParseWake(`{"d":""}`); err == nil {
		t.Fatal("a wake message without a delivery id parsed")
	}
}

func TestDispatchDoesNotAnnounceRefusedTasks(t *testing.T) {
	wl := &wakeLog{}
	r := relay.New(relay.Deps{Enqueuer: refusingQueue{}, Waker: wl}, relay.Options{})
	r.Dispatch(context.Background(), []relay.Ingested{{EventID: "evt_1", Deliveries: []string{"dlv_1"}, Endpoints: []string{"ep_1"}}})
	if msgs := wl.take(); len(msgs) != 0 {
		t.Fatalf("a task Redis refused was announced: %v", msgs)
	}
}

type refusingQueue struct{}

func (refusingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("redis down")
}

// A woken run deletes the queued copy of its task, so no worker dequeues
// it only to find its deliveries claimed.
func TestWokenRunDeletesQueuedTask(t *testing.T) {
	got := make(chan struct{}, 10)
	clock := &fakeClock{t: time.Now().UTC()}
	w := newDeliverWorld(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got <- struct{}{} }), nil, clock, relay.Options{})
	ro := testenv.Redis(t)
	aq := asynq.NewClient(ro)
	t.Cleanup(func() { _ = aq.Close() })
	insp := asynq.NewInspector(ro)
	t.Cleanup(func() { _ = insp.Close() })
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	r := relay.New(relay.Deps{Store: w.st, Enqueuer: aq, Inspector: insp, Guard: guard, Now: clock.Now,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard})}, relay.Options{})
	ctx := context.Background()
	id := w.event(t)
	r.Dispatch(ctx, []relay.Ingested{{EventID: "evt", Deliveries: []string{id}, Endpoints: []string{w.ep}}})
	p := task.Deliver{DeliveryID: id, EndpointID: w.ep, Attempt: 1}
	if _, err := insp.GetTaskInfo(task.QueueDeliveries, task.GroupTaskID(p, "")); err != nil {
		t.Fatalf("the dispatched task is not queued: %v", err)
	}
	testenv.Must(t, r.DeliverWoken(ctx, p, relay.NewSlots(1)))
	if len(got) != 1 {
		t.Fatalf("%d requests sent, want 1", len(got))
	}
	if _, err := insp.GetTaskInfo(task.QueueDeliveries, task.GroupTaskID(p, "")); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the queued copy after the woken run: %v, want ErrTaskNotFound", err)
	}
}
