package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// bodySize is the approximate size of every event body, in bytes.
const bodySize = 1024

// loadConfig is what runLoad needs.
type loadConfig struct {
	URL         string
	Secret      string // the Stripe source's whsec_ secret
	Concurrency int
	Duration    time.Duration
	MaxEvents   int
	Rate        int // open loop: events/s (runOpenLoop)
	MaxInFlight int // open loop: requests outstanding at most
}

// record is one ingest request.
type record struct {
	Start   time.Time     // when the request was sent (open loop: when it was due)
	Latency time.Duration // from Start until the response body was read
	Status  int           // 0 when the request failed without a response
	Err     string        // short error class when Status is 0
	EventID string        // hookrelay's evt_ id from a 200 answer
}

// failure labels a request that was not acknowledged: its status code,
// or the error class when there was no usable answer.
func (x record) failure() string {
	if x.Err != "" {
		return x.Err
	}
	return strconv.Itoa(x.Status)
}

// loadResult is every request of a run, with the load window (until the
// last answer).
type loadResult struct {
	Records    []record
	Start, End time.Time
	Pace       *paceStats // open loop only
}

// ackedIDs returns the event ids hookrelay acknowledged.
func (r *loadResult) ackedIDs() []string {
	var ids []string
	for _, x := range r.Records {
		if x.EventID != "" {
			ids = append(ids, x.EventID)
		}
	}
	return ids
}

// eventTypes rotate across events, as a real Stripe account sends a mix.
var eventTypes = []string{"payment_intent.succeeded", "invoice.paid", "customer.updated", "charge.refunded"}

// eventBody returns a Stripe-shaped event of about bodySize bytes with a
// unique id built from the run tag and the sequence number n.
func eventBody(tag string, n int64, now time.Time) []byte {
	head := fmt.Sprintf(`{"id":"evt_bench_%s_%010d","object":"event","api_version":"2023-10-16","created":%d,`+
		`"data":{"object":{"id":"pi_bench_%s_%010d","object":"payment_intent","amount":2000,"currency":"usd",`+
		`"status":"succeeded","livemode":false,"metadata":{"order_id":"%d","note":"`,
		tag, n, now.Unix(), tag, n, n)
	tail := fmt.Sprintf(`"}}},"livemode":false,"pending_webhooks":1,`+
		`"request":{"id":null,"idempotency_key":null},"type":%q}`, eventTypes[n%int64(len(eventTypes))])
	pad := max(0, bodySize-len(head)-len(tail))
	var b bytes.Buffer
	b.Grow(len(head) + pad + len(tail))
	b.WriteString(head)
	b.WriteString(strings.Repeat("x", pad))
	b.WriteString(tail)
	return b.Bytes()
}

// runLoad posts signed events from cfg.Concurrency goroutines until
// cfg.Duration has passed, cfg.MaxEvents were sent or ctx ends. All
// goroutines share one Transport with an idle connection per goroutine.
func runLoad(ctx context.Context, cfg loadConfig) *loadResult {
	client, tr := newLoadClient(cfg.Concurrency * 2)
	defer tr.CloseIdleConnections()
	tag := runTag()

	var next atomic.Int64
	per := make([][]record, cfg.Concurrency)
	res := &loadResult{Start: time.Now()}
	deadline := res.Start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]record, 0, 4096)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := next.Add(1)
				if n > int64(cfg.MaxEvents) {
					break
				}
				recs = append(recs, post(ctx, client, cfg, eventBody(tag, n, time.Now()), time.Time{}))
			}
			per[w] = recs
		}()
	}
	wg.Wait()
	res.End = time.Now()
	for _, recs := range per {
		res.Records = append(res.Records, recs...)
	}
	return res
}

// newLoadClient returns the client every sender shares, keeping up to
// idle connections open between requests.
func newLoadClient(idle int) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never go through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr
}

// runTag is a random tag that makes the run's Stripe event ids unique.
func runTag() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lateAfter is how far behind its schedule an open-loop send may start
// and still count as on time (timer and scheduler jitter on a busy
// machine); later ones are reported as late.
const lateAfter = 10 * time.Millisecond

// runOpenLoop sends cfg.Rate events per second on a fixed schedule for
// cfg.Duration (at most cfg.MaxEvents), each in its own goroutine, with at
// most cfg.MaxInFlight outstanding: a send due while that many are
// unanswered is dropped and counted. Each record's Start is the event's
// scheduled time, so its latency includes any delay in starting it.
func runOpenLoop(ctx context.Context, cfg loadConfig) *loadResult {
	client, tr := newLoadClient(cfg.MaxInFlight)
	defer tr.CloseIdleConnections()
	tag := runTag()
	n := int64(cfg.Duration.Seconds() * float64(cfg.Rate))
	if n > int64(cfg.MaxEvents) {
		logf("warning: %d/s for %s is %d events: BENCH_MAX_EVENTS (%d) ends the schedule after %.1fs",
			cfg.Rate, cfg.Duration, n, cfg.MaxEvents, float64(cfg.MaxEvents)/float64(cfg.Rate))
		n = int64(cfg.MaxEvents)
	}
	p := pacer{Rate: float64(cfg.Rate), N: n, LateAfter: lateAfter, Now: time.Now, Sleep: sleepCtx}
	slots := make(chan struct{}, cfg.MaxInFlight)
	var (
		mu   sync.Mutex
		recs = make([]record, 0, n)
		wg   sync.WaitGroup
	)
	st := p.run(ctx, func(i int64, at time.Time) bool {
		select {
		case slots <- struct{}{}:
		default:
			return false
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := post(ctx, client, cfg, eventBody(tag, i+1, time.Now()), at)
			<-slots
			mu.Lock()
			recs = append(recs, rec)
			mu.Unlock()
		}()
		return true
	})
	wg.Wait()
	return &loadResult{Records: recs, Start: st.Start, End: time.Now(), Pace: &st}
}

// post signs and sends one event, as Stripe would, and reads the answer.
// Latency counts from due when it is set (open loop), else from the send.
func post(ctx context.Context, client *http.Client, cfg loadConfig, body []byte, due time.Time) record {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: cfg.Secret, Timestamp: time.Now()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return record{Start: time.Now(), Err: "request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signed.Header)
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	rec := record{Start: time.Now()}
	if !due.IsZero() {
		rec.Start = due
	}
	resp, err := client.Do(req)
	if err != nil {
		rec.Latency, rec.Err = time.Since(rec.Start), errClass(err)
		return rec
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	rec.Latency, rec.Status = time.Since(rec.Start), resp.StatusCode
	if err != nil {
		rec.Status, rec.Err = 0, errClass(err)
		return rec
	}
	if resp.StatusCode == http.StatusOK {
		var ack struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}
		switch {
		case json.Unmarshal(b, &ack) != nil || ack.ID == "":
			rec.Err = "200 without an event id"
		case ack.Duplicate:
			rec.Err = "200 duplicate" // ids are unique: should not happen
		default:
			rec.EventID = ack.ID
		}
	}
	return rec
}

// errClass shortens a transport error to a label for the report.
func errClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
