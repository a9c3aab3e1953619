package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func (e *env) setEndpoint(id string, in relay.EndpointInput) {
	e.t.Helper()
	_, err := e.api.UpdateEndpoint(context.Background(), e.actor, id, in)
	testenv.Must(e.t, err)
}

func (e *env) attempts(deliveryID string) []store.Attempt {
	e.t.Helper()
	atts, err := store.New(e.db).AttemptsOf(context.Background(), deliveryID)
	testenv.Must(e.t, err)
	return atts
}

// A rate-limited endpoint gets its deliveries postponed, never failed:
// every delivery succeeds on its first attempt.
func TestRateLimitPostponesWithoutFailing(t *testing.T) {
	e := newEnv(t, envOptions{gate: &delivery.GateOptions{}})
	src := e.stripeSource()
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	rate := 2
	e.setEndpoint(ep.ID, relay.EndpointInput{RateLimit: &rate})
	var ids []string
	for i := range 6 {
		_, resp := e.postStripe(src, stripeEvent("evt_rate"+string(rune('a'+i)), "invoice.paid"), stripeSecret, time.Now())
		ids = append(ids, resp["id"].(string))
	}
	for _, id := range ids {
		d := e.waitDelivery(id, ep.ID, store.StatusSucceeded)
		if n := len(e.attempts(d.ID)); n != 1 {
			t.Fatalf("delivery %s took %d attempts, want 1 (throttling is not failure)", d.ID, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range arrivals {
		in := 0
		for _, a := range arrivals[i:] {
			if a.Sub(arrivals[i]) < time.Second {
				in++
			}
		}
		if in > rate+1 { // one of slack for the limiter's window edge
			t.Fatalf("%d requests within one second at %d/s", in, rate)
		}
	}
}

// After the threshold of consecutive failures the circuit opens: attempts
// stop (postponed, not counted) until the cool-down, then one probe
// closes it again.
func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	e := newEnv(t, envOptions{gate: &delivery.GateOptions{BreakerThreshold: 2, BreakerCooldown: 1500 * time.Millisecond},
		schedule: delivery.Schedule{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}})
	src := e.stripeSource()
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_breaker", "invoice.paid"), stripeSecret, time.Now())
	evID := resp["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	var d store.Delivery
	for {
		testenv.Must(t, e.db.NewSelect().Model(&d).Where("event_id = ?", evID).Scan(context.Background()))
		if len(e.attempts(d.ID)) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	state, until, err := e.gate.State(context.Background(), ep.ID)
	if err != nil || state != delivery.BreakerOpen {
		t.Fatalf("after 2 failures: %s until %v (%v)", state, until, err)
	}
	time.Sleep(500 * time.Millisecond) // several retry periods, all inside the cool-down
	if n := len(e.attempts(d.ID)); n != 2 {
		t.Fatalf("%d attempts while the circuit was open, want 2", n)
	}
	healthy.Store(true)
	e.waitDelivery(evID, ep.ID, store.StatusSucceeded)
	if n := len(e.attempts(d.ID)); n != 3 {
		t.Fatalf("attempts = %d, want 2 failures and 1 probe", n)
	}
	if state, _, _ := e.gate.State(context.Background(), ep.ID); state != delivery.BreakerClosed {
		t.Fatalf("after a good probe: %s", state)
	}
}

// 503 with Retry-After holds the endpoint for that long.
func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, envOptions{gate: &delivery.GateOptions{}})
	src := e.stripeSource()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_retry_after", "invoice.paid"), stripeSecret, time.Now())
	d := e.waitDelivery(resp["id"].(string), ep.ID, store.StatusSucceeded)
	atts := e.attempts(d.ID)
	if len(atts) != 2 || atts[0].ResponseStatus != 503 {
		t.Fatalf("attempts = %+v", atts)
	}
	if gap := atts[1].StartedAt.Sub(atts[0].StartedAt); gap < 2*time.Second {
		t.Fatalf("second attempt %v after the first, want ≥ Retry-After 2s", gap)
	}
}

// An endpoint failing longer than AutoDisableAfter is disabled with a
// reason; hookrelay announces it (and the recovery) on the notification
// URL, signed; one "recover" action re-enables it and redelivers.
func TestAutoDisableNotifyAndRecover(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *relay.Options) {
		o.AutoDisableAfter, o.RecoveredAfter = 300*time.Millisecond, 100*time.Millisecond
	}, schedule: delivery.Schedule{150 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond}})
	notifySecret := "whsec_" + "bm90aWZ5LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"
	wh, err := standardwebhooks.NewWebhook(notifySecret)
	testenv.Must(t, err)
	var nmu sync.Mutex
	var notes []string
	nsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if wh.Verify(body, r.Header) != nil {
			w.WriteHeader(401)
			return
		}
		nmu.Lock()
		notes = append(notes, r.Header.Get("X-Hookrelay-Event-Type"))
		nmu.Unlock()
	}))
	defer nsrv.Close()
	testenv.Must(t, e.relay.EnsureOps(context.Background(), nsrv.URL, notifySecret))
	testenv.Must(t, e.relay.EnsureOps(context.Background(), nsrv.URL, notifySecret)) // idempotent

	src := e.stripeSource()
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	_, resp := e.postStripe(src, stripeEvent("evt_autodisable", "invoice.paid"), stripeSecret, time.Now())
	evID := resp["id"].(string)
	e.waitDelivery(evID, ep.ID, store.StatusFailed)
	got, err := store.New(e.db).GetEndpoint(context.Background(), e.team, ep.ID)
	testenv.Must(t, err)
	if got.Enabled || got.DisabledAt == nil || got.DisabledReason == "" {
		t.Fatalf("endpoint not auto-disabled: enabled=%v reason=%q", got.Enabled, got.DisabledReason)
	}
	waitNote := func(kind string) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			nmu.Lock()
			for _, n := range notes {
				if n == kind {
					nmu.Unlock()
					return
				}
			}
			nmu.Unlock()
			if time.Now().After(deadline) {
				t.Fatalf("no %s notification; got %v", kind, notes)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitNote("endpoint.disabled")

	healthy.Store(true)
	n, err := e.api.RecoverEndpoint(context.Background(), e.actor, ep.ID)
	if err != nil || n != 1 {
		t.Fatalf("recover: %d, %v", n, err)
	}
	e.waitDelivery(evID, ep.ID, store.StatusSucceeded)
	waitNote("endpoint.recovered")
	rows, _ := store.New(e.db).ListAudit(context.Background(), store.AuditFilter{TeamID: e.team, Action: "endpoint.recover"})
	if len(rows) != 1 {
		t.Fatalf("recover audit rows: %+v", rows)
	}
}
