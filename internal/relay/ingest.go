package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// ErrUnavailable wraps storage failures during ingest: the provider must be
// told to retry (503), since nothing was committed.
var ErrUnavailable = errors.New("relay: storage unavailable")

// keptHeaders are the request headers stored with an event: what a person
// debugging a delivery wants to see, never credentials.
var keptHeaders = map[string]bool{}

func init() {
	for _, h := range []string{"Content-Type", "User-Agent", "Stripe-Signature", "X-Github-Event", "X-Github-Delivery",
		"X-Hub-Signature-256", "X-Shopify-Topic", "X-Shopify-Event-Id", "X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain",
		"X-Slack-Request-Timestamp", "X-Twilio-Signature", "Paddle-Signature", "Webhook-Id", "Webhook-Timestamp",
		"Svix-Id", "Svix-Timestamp", "X-Request-Id", "X-Forwarded-For"} {
		keptHeaders[h] = true
	}
}

// KeepHeaders selects the headers stored with an event or a rejection.
func KeepHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, 4)
	for k, v := range h {
		if keptHeaders[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// Verify checks a request against its source's secrets and configuration,
// without the ingest cache. A *provider.Rejection means 401;
// provider.ErrMalformed means 400.
func (r *Relay) Verify(src *store.Source, req *provider.Request) (provider.Result, error) {
	s, err := r.prepareSource(src)
	if err != nil {
		return provider.Result{}, err
	}
	return s.Verify(req)
}

// Inbound is one verified request, ready to be stored. Body and Headers
// must be owned by the caller (not a server's reused buffers).
type Inbound struct {
	Source      *store.Source
	Result      provider.Result
	Body        []byte
	ContentType string
	Headers     map[string][]string
	ReceivedAt  time.Time
}

// Ingested is what happened to one Inbound.
type Ingested struct {
	EventID    string
	Duplicate  bool
	Deliveries []string
	// Endpoints[i] is the endpoint of Deliveries[i], so Dispatch can
	// group them (when absent, each delivery is its own task).
	Endpoints []string
}

// Ingest stores a batch of verified events and their deliveries with ONE
// statement (its own transaction, committed durably) and returns after
// the commit: only then may the caller acknowledge them. A batch of one is
// the plain request path; the Batcher passes many to share a commit. Then
// call Dispatch with the results.
//
// The subscribed endpoints come from the store's short cache
// (store.SubscribersTTL): a subscription created through this process
// gets the very next event; one created by another replica within the
// TTL.
func (r *Relay) Ingest(ctx context.Context, in []Inbound) ([]Ingested, error) {
	out := make([]Ingested, len(in))
	events := make([]*store.Event, len(in))
	var ds []store.Delivery
	first := make([]int, len(in)+1) // event i's deliveries are ds[first[i]:first[i+1]]
	subs := make(map[string][]store.Subscriber, 1)
	for i, x := range in {
		// Microseconds, as PostgreSQL stores it: the delivery rows repeat
		// it (created_at = received_at) and must match the event's row.
		at := x.ReceivedAt.Truncate(time.Microsecond)
		e := &store.Event{ID: store.NewID("evt"), TeamID: x.Source.TeamID, SourceID: x.Source.ID,
			ReceivedAt: at, EventType: clean(x.Result.EventType), ContentType: clean(x.ContentType),
			Headers: cleanHeaders(x.Headers), Body: x.Body, Verified: x.Result.Verified}
		if e.Body == nil {
			e.Body = []byte{} // events.body is NOT NULL; an empty webhook is still a webhook
		}
		if pid := clean(x.Result.EventID); pid != "" {
			e.ProviderEventID = &pid
		}
		events[i] = e
		first[i] = len(ds)
		eps, ok := subs[e.SourceID]
		if !ok {
			var err error
			if eps, err = r.st.Subscribers(ctx, e.SourceID); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			subs[e.SourceID] = eps
		}
		for _, ep := range eps {
			if MatchEventType(ep.EventTypes, e.EventType) {
				ds = append(ds, store.Delivery{ID: store.NewID("dlv"), TeamID: e.TeamID, EventID: e.ID, EndpointID: ep.ID,
					Status: store.StatusPending, NextAttemptAt: &e.ReceivedAt, CreatedAt: at, UpdatedAt: at})
			}
		}
	}
	first[len(in)] = len(ds)
	inserted, err := r.st.IngestEvents(ctx, events, ds)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	for i, e := range events {
		out[i] = Ingested{EventID: e.ID, Duplicate: !inserted[i]}
		if !inserted[i] {
			continue // a duplicate's deliveries were not inserted
		}
		for _, d := range ds[first[i]:first[i+1]] {
			out[i].Deliveries = append(out[i].Deliveries, d.ID)
			out[i].Endpoints = append(out[i].Endpoints, d.EndpointID)
		}
	}
	r.m.IngestBatch(len(in))
	return out, nil
}

// clean makes a provider-supplied string storable: PostgreSQL text and
// jsonb refuse NUL bytes and invalid UTF-8, and one such value must not
// fail a whole batch.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

func cleanHeaders(h map[string][]string) map[string][]string {
	for k, vs := range h {
		for i, v := range vs {
			vs[i] = clean(v)
		}
		if ck := clean(k); ck != k {
			delete(h, k)
			h[ck] = vs
		}
	}
	return h
}

// dispatchGroup bounds the deliveries one task carries.
const dispatchGroup = 64

// Dispatch enqueues the first attempt of every new delivery: one task per
// endpoint per batch (up to dispatchGroup deliveries), so a batch of
// events bound for one endpoint costs one Redis round trip here and one
// claim, one gate check and one finish in the worker. A group's task id is
// derived from its deliveries (task.GroupTaskID), so dispatching the same
// results again is a no-op. A failure is logged, not returned: the events
// are committed and the sweeper will enqueue what is missing.
func (r *Relay) Dispatch(ctx context.Context, res []Ingested) {
	open := map[string]*task.Deliver{}
	var tasks []*task.Deliver
	for _, x := range res {
		for j, id := range x.Deliveries {
			ep := ""
			if len(x.Endpoints) == len(x.Deliveries) {
				ep = x.Endpoints[j]
			}
			if g := open[ep]; ep != "" && g != nil && len(g.More)+1 < dispatchGroup {
				g.More = append(g.More, id)
				continue
			}
			g := &task.Deliver{DeliveryID: id, EndpointID: ep, Attempt: 1}
			tasks = append(tasks, g)
			if ep != "" {
				open[ep] = g
			}
		}
	}
	queued := tasks[:0:0]
	for _, p := range tasks {
		if err := r.enqueue(ctx, task.NewDeliver(*p, "", time.Time{})); err != nil {
			r.log.Warn("enqueue_failed", "delivery_id", p.DeliveryID, "count", 1+len(p.More), "error", err.Error())
			continue
		}
		queued = append(queued, p)
	}
	r.wake(ctx, queued)
}

// MatchEventType reports whether an endpoint filter lets type t through:
// an empty filter or "*" takes all, "invoice.*" takes a prefix, else exact.
func MatchEventType(filter []string, t string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		switch {
		case f == "*" || f == t:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(t, f[:len(f)-1]):
			return true
		}
	}
	return false
}
