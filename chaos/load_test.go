package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// arrival is what the sink saw of one hookrelay event (Webhook-Id).
type arrival struct {
	firstOK time.Time // first copy answered 2xx
	ok      int       // copies answered 2xx
	failed  int       // copies answered 500 on purpose
	sum     [32]byte  // sha256 of the first body
	badBody bool      // a later copy had another body
}

// sink is the endpoint: it records arrivals per Webhook-Id. Like a real
// endpoint it takes a few milliseconds per request, and it fails the first
// copy of about one event in ten with a 500, so that retries scheduled in
// Redis are in play when the faults hit.
type sink struct {
	url string
	mu  sync.Mutex
	got map[string]*arrival
}

func newSink(t *testing.T) *sink {
	s := &sink{got: map[string]*arrival{}}
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("Webhook-Id")
	sum := sha256.Sum256(body)
	// 5–35 ms of "work", derived from the id so runs are comparable.
	idSum := sha256.Sum256([]byte(id))
	time.Sleep(time.Duration(5+int(idSum[0])%31) * time.Millisecond)
	s.mu.Lock()
	a := s.got[id]
	if a == nil {
		a = &arrival{sum: sum}
		s.got[id] = a
	} else if a.sum != sum {
		a.badBody = true
	}
	fail := idSum[1]%10 == 0 && a.failed == 0 && a.ok == 0
	if fail {
		a.failed++
	} else {
		a.ok++
		if a.ok == 1 {
			a.firstOK = time.Now()
		}
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "scripted failure", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// snapshot copies the arrivals of the given event ids.
func (s *sink) snapshot(ids []string) map[string]arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]arrival, len(ids))
	for _, id := range ids {
		if a := s.got[id]; a != nil {
			out[id] = *a
		}
	}
	return out
}

// missing counts the ids not yet delivered (answered 2xx).
func (s *sink) missing(ids []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if a := s.got[id]; a == nil || a.ok == 0 {
			n++
		}
	}
	return n
}

// sent is one event the load generator posted and what came back.
type sent struct {
	providerID string   // the Stripe event id in the body (unique)
	sum        [32]byte // sha256 of the body
	status     int      // 0: transport error
	err        string
	eventID    string // hookrelay's event id from a 2xx answer
	duplicate  bool
	at, acked  time.Time
}

// loadSpec is one load run.
type loadSpec struct {
	url, secret string
	prefix      string // of provider event ids, unique per run
	events      int
	concurrency int
	duration    time.Duration // the events are spread evenly over it
}

// runLoad posts spec.events signed Stripe events and returns them in order.
// It paces sends evenly over spec.duration; a slow server makes it fall
// behind, never pile up more than spec.concurrency requests.
func runLoad(ctx context.Context, spec loadSpec) []sent {
	out := make([]sent, spec.events)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: spec.concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 40 * time.Second}
	next := make(chan int)
	var wg sync.WaitGroup
	for range spec.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = postOne(ctx, client, spec, i)
			}
		}()
	}
	start := time.Now()
	interval := spec.duration / time.Duration(max(spec.events, 1))
	for i := range spec.events {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func postOne(ctx context.Context, client *http.Client, spec loadSpec, i int) sent {
	now := time.Now()
	pid := fmt.Sprintf("evt_%s_%06d", spec.prefix, i)
	body := fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,`+
		`"data":{"object":{"id":"pi_%s_%d","object":"payment_intent","amount":%d,"currency":"eur"}},`+
		`"livemode":false,"type":"payment_intent.succeeded"}`, pid, now.Unix(), spec.prefix, i, 1000+i)
	s := sent{providerID: pid, sum: sha256.Sum256(body), at: now}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: spec.secret, Timestamp: now})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.url, bytes.NewReader(body))
	if err != nil {
		s.err = err.Error()
		return s
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signed.Header)
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	resp, err := client.Do(req)
	if err != nil {
		s.err = err.Error()
		return s
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	s.status, s.acked = resp.StatusCode, time.Now()
	if resp.StatusCode/100 == 2 {
		var r struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.ID == "" {
			s.err = fmt.Sprintf("2xx without an event id: %q", raw)
		}
		s.eventID, s.duplicate = r.ID, r.Duplicate
	} else if resp.StatusCode != http.StatusServiceUnavailable {
		s.err = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	return s
}
