package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripefixture"
)

// DefaultTestEventType is the type of a test event when none is given.
const DefaultTestEventType = "payment_intent.succeeded"

// SendTestEvent stores a realistic Stripe event (internal/stripefixture,
// api_version 2023-10-16, id evt_test_…) on the endpoint's first subscribed source, with
// ONE delivery to this endpoint only, in one transaction with its audit row,
// then enqueues it: the test goes through the real worker, signing and
// retry pipeline. The event is created by hookrelay itself, so it passes
// as verified for delivery, but events.test marks it (the pages show a
// "test" badge, never "signature verified"), and so do its headers.
func (r *Relay) SendTestEvent(ctx context.Context, a Actor, endpointID, eventType string) (*store.Event, *store.Delivery, error) {
	eventType = strings.TrimSpace(eventType)
	if eventType == "" {
		eventType = DefaultTestEventType
	}
	if len(eventType) > 200 || strings.ContainsAny(eventType, " \t\r\n\"\\") {
		return nil, nil, invalid("event_type", "must be a short event type like %s", DefaultTestEventType)
	}
	now := r.Now()
	var ev *store.Event
	var d *store.Delivery
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		ep, err := tx.GetEndpoint(ctx, a.TeamID, endpointID)
		if err != nil {
			return err
		}
		if !ep.Enabled {
			return invalid("enabled", "the endpoint is disabled; enable it before sending a test event")
		}
		if len(ep.SourceIDs) == 0 {
			return invalid("source_ids", "the endpoint is subscribed to no source; subscribe it to one first")
		}
		src, err := tx.GetSource(ctx, a.TeamID, ep.SourceIDs[0])
		if err != nil {
			return err
		}
		pid := "evt_test_" + randomHex(12)
		body, err := testEventBody(src.Provider, pid, eventType, now)
		if err != nil {
			return err
		}
		ev = &store.Event{ID: store.NewID("evt"), TeamID: a.TeamID, SourceID: src.ID, ReceivedAt: now,
			ProviderEventID: &pid, EventType: eventType, ContentType: "application/json; charset=utf-8",
			Headers: map[string][]string{"Content-Type": {"application/json; charset=utf-8"},
				"User-Agent": {"hookrelay-test-event"}, "X-Hookrelay-Test": {"true"}},
			Body: body, Verified: true}
		if _, err := tx.InsertEvent(ctx, ev); err != nil {
			return err
		}
		if err := tx.MarkTestEvent(ctx, a.TeamID, ev.ID); err != nil {
			return err
		}
		ev.Test = true
		d = &store.Delivery{ID: store.NewID("dlv"), TeamID: a.TeamID, EventID: ev.ID, EndpointID: ep.ID,
			Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertDeliveries(ctx, []store.Delivery{*d}); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.test_event", "endpoint", ep.ID,
			map[string]any{"event_id": ev.ID, "event_type": eventType, "source_id": src.ID, "delivery_id": d.ID})
	})
	if err != nil {
		return nil, nil, err
	}
	r.Dispatch(ctx, []Ingested{{EventID: ev.ID, Deliveries: []string{d.ID}, Endpoints: []string{d.EndpointID}}})
	return ev, d, nil
}

// testEventBody is a test event's body: the stripefixture event of its
// type, so the body matches the type. A Stripe source takes only the types
// there are fixtures for; another source gets, for a type without one, a
// generic event whose object is named by the type (customer.created
// carries a customer), never an unrelated payment intent.
func testEventBody(kind, id, eventType string, now time.Time) ([]byte, error) {
	if stripefixture.Has(eventType) {
		return stripefixture.Body(stripefixture.NewFlow(""), eventType, id, now)
	}
	if kind == provider.Stripe {
		return nil, invalid("event_type", "no Stripe test event of type %s (one of %s)", eventType,
			strings.Join(stripefixture.Types(), ", "))
	}
	return genericTestBody(id, eventType, now), nil
}

// genericTestBody is a Stripe-shaped event whose data.object is of the
// type's object: the type without its last part (customer.created →
// customer, payment_intent.succeeded → payment_intent).
func genericTestBody(id, eventType string, now time.Time) []byte {
	if strings.HasPrefix(eventType, "payment_intent.") {
		return StripeTestBody(id, eventType, now)
	}
	object := eventType
	if i := strings.LastIndex(eventType, "."); i > 0 {
		object = eventType[:i]
	}
	return fmt.Appendf(nil, `{
  "id": %q,
  "object": "event",
  "api_version": "2023-10-16",
  "created": %d,
  "data": {
    "object": {
      "id": "test_%s",
      "object": %q,
      "livemode": false,
      "metadata": {}
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": %q
}`, id, now.Unix(), randomHex(12), object, eventType)
}

// TestEventTypes are the types a test event of a source of provider kind
// can have: the Stripe fixtures for Stripe, none listed for the others
// (any type goes).
func TestEventTypes(kind string) []string {
	if kind == provider.Stripe {
		return stripefixture.Types()
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StripeTestBody is a payment-intent event as Stripe's API 2023-10-16
// sends it (the same shape as `hookrelay trigger`).
func StripeTestBody(id, eventType string, now time.Time) []byte {
	return fmt.Appendf(nil, `{
  "id": %q,
  "object": "event",
  "api_version": "2023-10-16",
  "created": %d,
  "data": {
    "object": {
      "id": "pi_test_%s",
      "object": "payment_intent",
      "amount": 2000,
      "amount_received": 2000,
      "currency": "usd",
      "status": "succeeded",
      "livemode": false,
      "metadata": {"order_id": "6735"}
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": %q
}`, id, now.Unix(), randomHex(12), eventType)
}
