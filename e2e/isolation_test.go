package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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
// every delivery succeeds on its first attempt, numbered 1.
//
// The rate is checked at the limiter, not at the sink: each admission lies
// between its attempt's recorded start (taken before the gate is asked)
// and its arrival at the sink, so requests are counted as sharing a second
// only when that is certain. A loaded machine can widen the intervals (a
// weaker check), never make a correct limiter fail.
func TestRateLimitPostponesWithoutFailing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{gate: &delivery.GateOptions{}})
	src := e.stripeSource()
	var mu sync.Mutex
	arrived := map[string]time.Time{} // delivery id → arrival at the sink
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived[r.Header.Get("X-Hookrelay-Delivery")] = time.Now()
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
	type window struct{ from, to time.Time }
	var admitted []window
	for _, id := range ids {
		d := e.waitDelivery(id, ep.ID, store.StatusSucceeded)
		atts := e.attempts(d.ID)
		if len(atts) != 1 || atts[0].N != 1 {
			t.Fatalf("delivery %s: attempts %+v, want one, numbered 1 (throttling is not failure)", d.ID, atts)
		}
		mu.Lock()
		admitted = append(admitted, window{atts[0].StartedAt, arrived[d.ID]})
		mu.Unlock()
	}
	// GCRA at 2/s with a burst of 2 admits at most 3 in any second.
	for _, a := range admitted {
		in := 0
		for _, b := range admitted {
			if !b.from.Before(a.from) && b.to.Sub(a.from) < time.Second {
				in++
			}
		}
		if in > rate+1 {
			t.Fatalf("%d requests admitted within one second at %d/s: %+v", in, rate, admitted)
		}
	}
}

// After the threshold of consecutive failures the circuit opens: attempts
// stop (postponed, not counted) until the cool-down, then one probe
// closes it again. The gate runs on a clock the test moves, so the
// cool-down ends when the test says, however slow the machine.
func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	t.Parallel()
	clock := &gateClock{t: time.Now()}
	e := newEnv(t, envOptions{gate: &delivery.GateOptions{BreakerThreshold: 2, BreakerMinDeliveries: 1, BreakerCooldown: 1500 * time.Millisecond, Now: clock.Now},
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
	var d store.Delivery
	waitFor(t, "two failed attempts", func() bool {
		testenv.Must(t, e.db.NewSelect().Model(&d).Where("event_id = ?", evID).Scan(context.Background()))
		return len(e.attempts(d.ID)) >= 2
	})
	state, until, err := e.gate.State(context.Background(), ep.ID)
	if err != nil || state != delivery.BreakerOpen {
		t.Fatalf("after 2 failures: %s until %v (%v)", state, until, err)
	}
	// The signal that the next attempt came and was held back: the delivery
	// is due again at the end of the cool-down, not after the 50 ms retry.
	waitFor(t, "a postponement", func() bool {
		testenv.Must(t, e.db.NewSelect().Model(&d).Where("event_id = ?", evID).Scan(context.Background()))
		atts := e.attempts(d.ID)
		return d.Attempts == 2 && d.NextAttemptAt != nil && d.NextAttemptAt.Sub(atts[1].StartedAt) > time.Second
	})
	if atts := e.attempts(d.ID); len(atts) != 2 {
		t.Fatalf("%d attempts while the circuit was open, want 2", len(atts))
	}
	healthy.Store(true)
	clock.Add(2 * time.Second) // the cool-down is over
	e.waitDelivery(evID, ep.ID, store.StatusSucceeded)
	atts := e.attempts(d.ID)
	if len(atts) != 3 || atts[0].N != 1 || atts[1].N != 2 || atts[2].N != 3 {
		t.Fatalf("attempts %+v, want 2 failures and 1 probe numbered 1-3 (postponements use no number)", atts)
	}
	if state, _, _ := e.gate.State(context.Background(), ep.ID); state != delivery.BreakerClosed {
		t.Fatalf("after a good probe: %s", state)
	}
}

// gateClock is a clock the test moves forward.
type gateClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *gateClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *gateClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// 503 with Retry-After holds the endpoint for that long.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
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
//
// Nothing here depends on how fast attempts run: the first event's
// failures start the streak (failing_since, recorded); once that is
// AutoDisableAfter old, a second event's failure must disable the endpoint.
func TestAutoDisableNotifyAndRecover(t *testing.T) {
	t.Parallel()
	// The failure streak's length is what the relay recorded
	// (endpoints.failing_since), not how long the test waited: the first
	// event's failures start a streak far shorter than AutoDisableAfter,
	// the test then moves its start two minutes back, and the second
	// event's failure finds it past AutoDisableAfter and disables the
	// endpoint. How soon asynq runs a retry (due times in whole seconds,
	// the claim's second of earliness) plays no part.
	const disableAfter = time.Minute
	e := newEnv(t, envOptions{tune: func(o *relay.Options) {
		o.AutoDisableAfter, o.RecoveredAfter = disableAfter, 100*time.Millisecond
	}, schedule: delivery.Schedule{100 * time.Millisecond}})
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
	getEP := func() *store.Endpoint {
		got, err := store.New(e.db).GetEndpoint(context.Background(), e.team, ep.ID)
		testenv.Must(t, err)
		return got
	}
	_, resp := e.postStripe(src, stripeEvent("evt_autodisable", "invoice.paid"), stripeSecret, time.Now())
	evIDs := []string{resp["id"].(string)}
	e.waitDelivery(evIDs[0], ep.ID, store.StatusFailed)
	got := getEP()
	if !got.Enabled || got.FailingSince == nil {
		t.Fatalf("after one failure: enabled %v, failing since %v; want enabled, failing", got.Enabled, got.FailingSince)
	}
	_, err = e.db.NewRaw(`UPDATE endpoints SET failing_since = failing_since - interval '2 minutes' WHERE id = ?`, ep.ID).Exec(context.Background())
	testenv.Must(t, err)
	_, resp = e.postStripe(src, stripeEvent("evt_autodisable_2", "invoice.paid"), stripeSecret, time.Now())
	evIDs = append(evIDs, resp["id"].(string))
	e.waitDelivery(evIDs[1], ep.ID, store.StatusFailed)
	waitFor(t, "the endpoint to be disabled", func() bool { return !getEP().Enabled })
	if got := getEP(); got.DisabledAt == nil || !strings.HasPrefix(got.DisabledReason, "failing without a success since ") {
		t.Fatalf("endpoint auto-disabled without the streak as reason: %+v", got)
	}
	waitNote := func(kind string) {
		waitFor(t, kind+" notification", func() bool {
			nmu.Lock()
			defer nmu.Unlock()
			return slices.Contains(notes, kind)
		})
	}
	waitNote("endpoint.disabled")

	healthy.Store(true)
	n, err := e.api.RecoverEndpoint(context.Background(), e.actor, ep.ID)
	if err != nil || n != len(evIDs) {
		t.Fatalf("recover: %d, %v; want %d redelivered", n, err, len(evIDs))
	}
	for _, id := range evIDs {
		e.waitDelivery(id, ep.ID, store.StatusSucceeded)
	}
	waitNote("endpoint.recovered")
	rows, _ := store.New(e.db).ListAudit(context.Background(), store.AuditFilter{TeamID: e.team, Action: "endpoint.recover"})
	if len(rows) != 1 {
		t.Fatalf("recover audit rows: %+v", rows)
	}
}
