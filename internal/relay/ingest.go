package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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

// Verify checks a request against its source's secrets and configuration.
// A *provider.Rejection means 401; provider.ErrMalformed means 400.
func (r *Relay) Verify(src *store.Source, req *provider.Request) (provider.Result, error) {
	var cfg provider.Config
	if err := json.Unmarshal(src.Config, &cfg); err != nil {
		return provider.Result{}, fmt.Errorf("relay: source %s config: %w", src.ID, err)
	}
	if src.Provider == provider.Stripe && cfg.Tolerance == 0 && r.opt.StripeTolerance > 0 {
		cfg.Tolerance = provider.Duration(r.opt.StripeTolerance)
	}
	v, err := provider.New(src.Provider, cfg)
	if err != nil {
		return provider.Result{}, fmt.Errorf("relay: source %s: %w", src.ID, err)
	}
	secrets, err := r.openSecrets(src.ID, src.Secrets)
	if err != nil {
		return provider.Result{}, err
	}
	return v.Verify(req, secrets)
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
}

// Ingest stores a batch of verified events and their deliveries in ONE
// transaction and returns after the commit: only then may the caller
// acknowledge them. A batch of one is the plain request path; a batcher
// can pass many to share a commit. Then call Dispatch with the results.
func (r *Relay) Ingest(ctx context.Context, in []Inbound) ([]Ingested, error) {
	out := make([]Ingested, len(in))
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		endpoints := map[string][]store.Endpoint{}
		var ds []store.Delivery
		for i, x := range in {
			e := &store.Event{ID: store.NewID("evt"), TeamID: x.Source.TeamID, SourceID: x.Source.ID,
				ReceivedAt: x.ReceivedAt, EventType: x.Result.EventType, ContentType: x.ContentType,
				Headers: x.Headers, Body: x.Body, Verified: x.Result.Verified}
			if x.Result.EventID != "" {
				pid := x.Result.EventID
				e.ProviderEventID = &pid
			}
			inserted, err := tx.InsertEvent(ctx, e)
			if err != nil {
				return err
			}
			out[i].EventID, out[i].Duplicate = e.ID, !inserted
			if !inserted {
				continue
			}
			eps, ok := endpoints[x.Source.ID]
			if !ok {
				if eps, err = tx.SubscribedEndpoints(ctx, x.Source.ID); err != nil {
					return err
				}
				endpoints[x.Source.ID] = eps
			}
			for _, ep := range eps {
				if !MatchEventType(ep.EventTypes, e.EventType) {
					continue
				}
				d := store.Delivery{ID: store.NewID("dlv"), TeamID: e.TeamID, EventID: e.ID, EndpointID: ep.ID,
					Status: store.StatusPending, NextAttemptAt: &e.ReceivedAt, CreatedAt: e.ReceivedAt, UpdatedAt: e.ReceivedAt}
				ds = append(ds, d)
				out[i].Deliveries = append(out[i].Deliveries, d.ID)
			}
		}
		return tx.InsertDeliveries(ctx, ds)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return out, nil
}

// Dispatch enqueues the first attempt of every new delivery. A failure is
// logged, not returned: the events are committed and the sweeper will
// enqueue what is missing.
func (r *Relay) Dispatch(ctx context.Context, res []Ingested) {
	for _, x := range res {
		for _, id := range x.Deliveries {
			if err := r.enqueue(ctx, task.NewDeliver(task.Deliver{DeliveryID: id, Attempt: 1}, "", time.Time{})); err != nil {
				r.log.Warn("enqueue_failed", "delivery_id", id, "error", err.Error())
			}
		}
	}
}

// RecordRejection stores a request refused for its signature (never the
// secret, never the body).
func (r *Relay) RecordRejection(ctx context.Context, src *store.Source, reason, remote string, h http.Header) error {
	return r.st.InsertRejected(ctx, &store.RejectedRequest{ID: store.NewID("rej"), TeamID: src.TeamID,
		SourceID: src.ID, ReceivedAt: r.Now(), Reason: reason, RemoteAddr: remote, Headers: KeepHeaders(h)})
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
