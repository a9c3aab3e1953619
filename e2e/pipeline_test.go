package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A Stripe event signed by stripe-go is ingested, stored and forwarded
// byte for byte; the endpoint verifies the Standard Webhooks signature
// with the official library.
func TestStripeEventDeliveredAndVerified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, epSecret := e.endpoint(srv.URL+"/hook", src)
	wh, err := standardwebhooks.NewWebhook(epSecret)
	testenv.Must(t, err)
	s.check = func(h http.Header, body []byte) error { return wh.Verify(body, h) }

	// Odd spacing and key order: exact bytes must survive, not re-encoded JSON.
	body := []byte(`{"id":"evt_e2e_1",  "type":"payment_intent.succeeded","object":"event", "data":{"object":{"amount": 2000}}}`)
	status, resp := e.postStripe(src, body, stripeSecret, time.Now())
	if status != 200 || resp["duplicate"] != false {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	evID := resp["id"].(string)
	e.waitDelivery(evID, ep.ID, store.StatusSucceeded)

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		t.Fatalf("endpoint rejected the signature: %v", s.errs)
	}
	if len(s.bodies) != 1 || !bytes.Equal(s.bodies[0], body) {
		t.Fatalf("forwarded body differs:\n got %q\nwant %q", s.bodies, body)
	}
	h := s.headers[0]
	for k, want := range map[string]string{"Webhook-Id": evID, "Content-Type": "application/json",
		"User-Agent": "hookrelay/test", "X-Hookrelay-Event-Type": "payment_intent.succeeded", "X-Hookrelay-Source": src.ID} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

// One event fans out to the two endpoints whose filters match; a third,
// filtered to another type, gets no delivery.
func TestFanOutAndEventTypeFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	var sinks [3]*sink
	var eps [3]*store.Endpoint
	filters := [][]string{nil, {"invoice.*"}, {"customer.created"}}
	for i := range sinks {
		sinks[i] = &sink{}
		srv := httptest.NewServer(sinks[i])
		defer srv.Close()
		eps[i], _ = e.endpoint(srv.URL, src, filters[i]...)
	}
	status, resp := e.postStripe(src, stripeEvent("evt_fan", "invoice.paid"), stripeSecret, time.Now())
	if status != 200 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	evID := resp["id"].(string)
	e.waitDelivery(evID, eps[0].ID, store.StatusSucceeded)
	e.waitDelivery(evID, eps[1].ID, store.StatusSucceeded)
	if n := e.count("deliveries"); n != 2 {
		t.Fatalf("deliveries = %d, want 2 (third endpoint filtered out)", n)
	}
	if sinks[2].received() != 0 {
		t.Fatal("filtered endpoint received the event")
	}
}

// A provider's retry of the same event id answers 200 with the original
// id and creates nothing.
func TestDuplicateProviderEventID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	body := stripeEvent("evt_dup", "charge.succeeded")
	_, first := e.postStripe(src, body, stripeSecret, time.Now())
	e.waitDelivery(first["id"].(string), ep.ID, store.StatusSucceeded)
	status, again := e.postStripe(src, body, stripeSecret, time.Now().Add(time.Second))
	if status != 200 || again["id"] != first["id"] || again["duplicate"] != true {
		t.Fatalf("duplicate: %d %v, first %v", status, again, first)
	}
	if ev, dl := e.count("events"), e.count("deliveries"); ev != 1 || dl != 1 {
		t.Fatalf("events=%d deliveries=%d, want 1 and 1", ev, dl)
	}
	e.drained() // a wrongly queued second copy has been sent by now
	if n := s.received(); n != 1 {
		t.Fatalf("endpoint received %d copies, want 1", n)
	}
}

// 500, 500, then 200: three attempts recorded, delivery succeeded.
func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{statuses: []int{500, 500, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_retry", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	atts, err := store.New(e.db).AttemptsOf(context.Background(), d.ID)
	testenv.Must(t, err)
	if len(atts) != 3 || atts[0].ResponseStatus != 500 || atts[1].ResponseStatus != 500 || atts[2].ResponseStatus != 200 {
		t.Fatalf("attempts = %+v", atts)
	}
	if atts[0].Error != "HTTP 500" || atts[2].Error != "" || d.Attempts != 3 {
		t.Fatalf("attempt errors %q/%q, delivery attempts %d", atts[0].Error, atts[2].Error, d.Attempts)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headers[0].Get("Webhook-Id") != s.headers[2].Get("Webhook-Id") {
		t.Fatal("webhook-id changed between retries")
	}
}

// After the last scheduled attempt the delivery is failed; a manual
// redelivery then succeeds and is audited.
func TestExhaustionThenManualRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{statuses: []int{503, 503, 503, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_exhaust", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusFailed)
	if d.Attempts != 3 || d.LastStatus != 503 {
		t.Fatalf("failed delivery: %+v", d)
	}
	if _, err := e.relay.Redeliver(context.Background(), e.actor, d.ID); err != nil {
		t.Fatal(err)
	}
	d = e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	atts, _ := store.New(e.db).AttemptsOf(context.Background(), d.ID)
	if len(atts) != 4 || !atts[3].Manual || atts[3].ResponseStatus != 200 {
		t.Fatalf("attempts after redelivery: %+v", atts)
	}
	audit, err := store.New(e.db).ListAudit(context.Background(), store.AuditFilter{TeamID: e.team, Action: "delivery.redeliver"})
	if err != nil || len(audit) != 1 || audit[0].TargetID != d.ID {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
}

// 410 Gone disables the endpoint and fails the delivery at once.
func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	srv := httptest.NewServer(&sink{statuses: []int{410}})
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_gone", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusFailed)
	if d.Attempts != 1 {
		t.Fatalf("attempts = %d, want 1", d.Attempts)
	}
	// The endpoint is disabled right after the attempt is recorded.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := store.New(e.db).GetEndpoint(context.Background(), e.team, ep.ID)
		testenv.Must(t, err)
		if !got.Enabled && got.DisabledReason != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint after 410: enabled=%v reason=%q", got.Enabled, got.DisabledReason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The SSRF guard refuses a loopback target when loopback is not allowed:
// the endpoint sees nothing and the attempt says why.
func TestSSRFGuardRefusesLoopback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowDial: []netip.Prefix{}})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_ssrf", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusFailed)
	atts, _ := store.New(e.db).AttemptsOf(context.Background(), d.ID)
	if len(atts) == 0 || !bytes.Contains([]byte(atts[0].Error), []byte("ssrf guard: refused 127.0.0.1 (loopback)")) {
		t.Fatalf("attempts = %+v", atts)
	}
	if s.received() != 0 {
		t.Fatal("guarded endpoint received a request")
	}
}

// Secrets are stored encrypted: no plaintext in any column.
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	_, epSecret := e.endpoint("http://127.0.0.1:9/x", src)
	var dump string
	err := e.db.NewRaw(`SELECT string_agg(t::text, ' ') FROM (SELECT s::text AS t FROM sources s
		UNION ALL SELECT ep::text FROM endpoints ep UNION ALL SELECT a::text FROM audit_log a) x`).Scan(context.Background(), &dump)
	testenv.Must(t, err)
	if dump == "" {
		t.Fatal("nothing stored")
	}
	for _, secret := range []string{stripeSecret, epSecret, epSecret[len("whsec_"):]} {
		if bytes.Contains([]byte(dump), []byte(secret)) {
			t.Fatalf("plaintext secret %q found in the database", secret[:10])
		}
	}
	// And they still open with the key.
	got, err := e.relay.RevealSecrets(context.Background(), e.actor, "source", src.ID, src.Secrets)
	if err != nil || len(got) != 1 || got[0] != stripeSecret {
		t.Fatalf("reveal = %v, %v", got, err)
	}
}

var errEnqueue = errors.New("redis down (injected)")

// failingEnqueuer stands in for a Redis that refuses every write.
type failingEnqueuer struct{}

func (failingEnqueuer) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errEnqueue
}

// Retries scheduled at sub-second times run on the normal path, without
// the sweeper's help (asynq stores due times in whole seconds, so a task
// may start a little before its delivery is due).
func TestRetryWithoutSweeper(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true, schedule: delivery.Schedule{1300 * time.Millisecond, 1700 * time.Millisecond}})
	e.startWorker(-1)
	src := e.stripeSource()
	s := &sink{statuses: []int{500, 500, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_nosweep", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	if d.Attempts != 3 {
		t.Fatalf("attempts = %d, want 3", d.Attempts)
	}
}

// An empty body is a valid webhook (some senders ping with one): stored as
// empty bytes and forwarded as such, not refused with a 503.
func TestEmptyBodyIngested(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	name, kind := "pinger", "none"
	src, err := e.api.CreateSource(context.Background(), e.actor, relay.SourceInput{Name: &name, Provider: &kind})
	testenv.Must(t, err)
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	status, resp := e.post("/in/"+src.IngestToken, nil, nil)
	if status != 200 {
		t.Fatalf("empty body: %d %v", status, resp)
	}
	e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) != 1 || len(s.bodies[0]) != 0 {
		t.Fatalf("forwarded %q, want an empty body", s.bodies)
	}
}
