// Package e2e tests the whole pipeline with real parts: PostgreSQL, Redis,
// the Fiber app on a loopback listener, the asynq worker, and endpoints
// that are real HTTP servers verifying signatures with the providers' and
// Standard Webhooks' own libraries.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/worker"
)

const stripeSecret = "whsec_test_e2e_secret_0123456789"

// env is one running hookrelay: API on a loopback port, worker, stores.
type env struct {
	t       *testing.T
	db      *bun.DB
	redis   asynq.RedisClientOpt
	box     *secret.Box
	relay   *relay.Relay // the worker's
	api     *relay.Relay // the API process's: creates config, ingests
	baseURL string
	team    string
	actor   relay.Actor
	worker  *worker.Worker
	gate    *delivery.Gate
	aq      *asynq.Client
	disp    *relay.Dispatcher // the API's: enqueues first attempts after ingest
	log     *slog.Logger
}

type envOptions struct {
	schedule    delivery.Schedule
	allowDial   []netip.Prefix // SSRF guard of the worker's client
	enqueuer    relay.Enqueuer // replaces the API's enqueuer (fault injection)
	noWorker    bool
	sweepGrace  time.Duration
	maxBody     int
	sweepPeriod time.Duration
	gate        *delivery.GateOptions // endpoint isolation in the worker
	tune        func(*relay.Options)
	logger      *slog.Logger     // every component's logs (default: the test's output)
	metrics     *metrics.Metrics // shared by API and worker, served at /metrics
	now         func() time.Time // the worker's clock (default time.Now)
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	db, _ := testenv.Postgres(t)
	e := &env{t: t, db: db, redis: testenv.Redis(t), log: o.logger}
	if e.log == nil {
		e.log = testLogger(t)
	}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	e.box = box
	if o.schedule == nil {
		o.schedule = delivery.Schedule{100 * time.Millisecond, 100 * time.Millisecond}
	}
	if o.allowDial == nil {
		o.allowDial = loopback
	}
	if o.maxBody == 0 {
		o.maxBody = 64 << 10
	}
	if o.sweepGrace == 0 {
		o.sweepGrace = 200 * time.Millisecond
	}
	e.aq = asynq.NewClient(e.redis)
	insp := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = e.aq.Close(); _ = insp.Close() })
	opts := relay.Options{MaxBodyBytes: o.maxBody, RetrySchedule: o.schedule, DeliveryTimeout: 2 * time.Second, BcryptCost: 4,
		SweepGrace: o.sweepGrace, Version: "test"}
	if o.tune != nil {
		o.tune(&opts)
	}
	var enq relay.Enqueuer = e.aq
	if o.enqueuer != nil {
		enq = o.enqueuer
	}
	// The API and the worker get separate relays, as in separate processes:
	// the API's guard allows loopback URLs to be configured, the worker's
	// client may be stricter.
	e.api = relay.New(relay.Deps{Store: store.New(db), Box: box, Enqueuer: enq, Inspector: insp,
		Guard: delivery.NewGuard(loopback), Logger: o.logger, Metrics: o.metrics}, opts)
	guard := delivery.NewGuard(o.allowDial)
	var gate *delivery.Gate
	if o.gate != nil {
		rdb := redis.NewClient(&redis.Options{Addr: e.redis.Addr, DB: e.redis.DB})
		t.Cleanup(func() { _ = rdb.Close() })
		gate = delivery.NewGate(rdb, *o.gate)
		e.gate = gate
	}
	e.relay = relay.New(relay.Deps{Store: store.New(db), Box: box, Enqueuer: e.aq, Inspector: insp, Guard: guard,
		Gate: gate, Now: o.now, Logger: o.logger, Metrics: o.metrics, Client: delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/test"})}, opts)

	disp := e.api.NewDispatcher(1, 1000)
	e.disp = disp
	batcher := e.api.NewBatcher(2, 16)
	app := api.New(api.Deps{Relay: e.api, Dispatcher: disp, Batcher: batcher, MaxBodyBytes: o.maxBody, PublicURL: "http://test.invalid",
		Logger: o.logger, Metrics: o.metrics})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	go func() { _ = app.Listener(ln) }()
	e.baseURL = "http://" + ln.Addr().String()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(2 * time.Second); batcher.Shutdown(); disp.Shutdown() })

	b, err := e.api.Bootstrap(context.Background())
	testenv.Must(t, err)
	e.team = b.TeamID
	e.actor = relay.Actor{TeamID: b.TeamID, Kind: "test", ID: t.Name()}
	if !o.noWorker {
		e.startWorker(o.sweepPeriod)
	}
	return e
}

func (e *env) startWorker(sweep time.Duration) {
	switch {
	case sweep == 0:
		sweep = 100 * time.Millisecond
	case sweep < 0: // no sweeper: the normal path must do it alone
		sweep = 0
	}
	e.worker = worker.New(e.relay, e.redis, e.log, worker.Options{Concurrency: 4,
		PollInterval: 10 * time.Millisecond, DelayedCheckInterval: 100 * time.Millisecond,
		SweepInterval: sweep, ShutdownTimeout: 3 * time.Second})
	testenv.Must(e.t, e.worker.Start())
	e.t.Cleanup(e.worker.Shutdown)
}

// stripeSource creates a Stripe source with stripeSecret.
func (e *env) stripeSource() *store.Source {
	name, kind, sec := "stripe", "stripe", stripeSecret
	src, err := e.api.CreateSource(context.Background(), e.actor, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(e.t, err)
	return src
}

// endpoint creates an endpoint subscribed to src and returns it with its secret.
func (e *env) endpoint(url string, src *store.Source, types ...string) (*store.Endpoint, string) {
	ids := []string{src.ID}
	in := relay.EndpointInput{URL: &url, SourceIDs: &ids}
	if len(types) > 0 {
		in.EventTypes = &types
	}
	ep, sec, err := e.api.CreateEndpoint(context.Background(), e.actor, in)
	testenv.Must(e.t, err)
	return ep, sec
}

// stripeEvent returns a Stripe-shaped body with the given id and type.
func stripeEvent(id, typ string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,`+
		`"data":{"object":{"id":"pi_1","object":"payment_intent","amount":2000,"currency":"eur"}},"type":%q}`,
		id, time.Now().Unix(), typ)
}

// postStripe signs body like Stripe does and posts it to the source.
func (e *env) postStripe(src *store.Source, body []byte, secret string, ts time.Time) (int, map[string]any) {
	e.t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts})
	return e.post("/in/"+src.IngestToken, body, map[string]string{"Stripe-Signature": sp.Header, "Content-Type": "application/json"})
}

func (e *env) post(path string, body []byte, headers map[string]string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.baseURL+path, bytes.NewReader(body))
	testenv.Must(e.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(e.t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// waitDelivery polls until the event's delivery to ep has the status.
func (e *env) waitDelivery(eventID, endpointID, status string) *store.Delivery {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var d store.Delivery
		err := e.db.NewSelect().Model(&d).Where("event_id = ? AND endpoint_id = ?", eventID, endpointID).Scan(context.Background())
		if err == nil && d.Status == status {
			return &d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("delivery of %s to %s: want %s, have %+v (err %v)", eventID, endpointID, status, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) count(table string) int {
	e.t.Helper()
	n, err := e.db.NewSelect().Table(table).Count(context.Background())
	testenv.Must(e.t, err)
	return int(n)
}

// queued counts tasks in Redis for deliveries, in every state but done.
func (e *env) queued() int {
	e.t.Helper()
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	info, err := insp.GetQueueInfo("deliveries")
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return 0
	}
	testenv.Must(e.t, err)
	return info.Pending + info.Scheduled + info.Active + info.Retry
}

// shiftedClock is the real clock moved forward by what the test adds.
type shiftedClock struct{ by atomic.Int64 }

func (c *shiftedClock) Now() time.Time      { return time.Now().Add(time.Duration(c.by.Load())) }
func (c *shiftedClock) Add(d time.Duration) { c.by.Add(int64(d)) }

// drained stops the API's dispatcher, which returns once everything
// submitted to it is in Redis, and waits until the worker has run every
// delivery task: the explicit signal that nothing else is on its way.
func (e *env) drained() {
	e.t.Helper()
	e.disp.Shutdown()
	waitFor(e.t, "the delivery queue to drain", func() bool { return e.queued() == 0 })
}

// sink is an endpoint that records what it receives and answers from a script.
type sink struct {
	mu       sync.Mutex
	statuses []int // answers in order; the last one repeats
	bodies   [][]byte
	headers  []http.Header
	check    func(h http.Header, body []byte) error
	errs     []error
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, body)
	s.headers = append(s.headers, r.Header.Clone())
	if s.check != nil {
		if err := s.check(r.Header, body); err != nil {
			s.errs = append(s.errs, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	status := http.StatusOK
	if n := len(s.bodies); len(s.statuses) > 0 {
		status = s.statuses[min(n, len(s.statuses))-1]
	}
	w.WriteHeader(status)
}

func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// waitFor polls cond until it holds, failing the test after a bounded
// deadline: tests wait for what was recorded, never for a fixed time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
