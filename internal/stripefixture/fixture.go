// Package stripefixture holds realistic Stripe webhook events, as Stripe's
// API version 2023-10-16 (stripe-go v76) sends them: what `hookrelay
// trigger` posts and what the dashboard's test-event button stores.
//
// The events of one Flow share their objects' ids: the checkout session's
// payment_intent and customer are the payment_intent.succeeded event's,
// the invoice's subscription is the customer.subscription.* events', and
// so on, so a consumer that follows one customer through a purchase sees
// the ids it expects. Bodies are built from text templates, never decoded
// and re-encoded, so field order looks like Stripe's.
package stripefixture

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the API version of every fixture: stripe-go v76's, which
// webhook.ConstructEvent insists on.
const APIVersion = "2023-10-16"

// Flow is one customer's set of Stripe objects. Every fixture built from
// the same Flow names the same ids.
type Flow struct {
	Customer        string
	PaymentIntent   string
	Charge          string
	Refund          string
	CheckoutSession string
	Invoice         string
	Subscription    string
	SubscriptionItm string
	Price           string
	Product         string
	PaymentMethod   string
	Email           string
}

// NewFlow makes a Flow whose ids end in suffix (letters and digits), or
// in a random suffix when suffix is empty.
func NewFlow(suffix string) Flow {
	if suffix == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		suffix = hex.EncodeToString(b)
	}
	return Flow{
		Customer: "cus_" + suffix, PaymentIntent: "pi_" + suffix, Charge: "ch_" + suffix, Refund: "re_" + suffix,
		CheckoutSession: "cs_test_" + suffix, Invoice: "in_" + suffix, Subscription: "sub_" + suffix,
		SubscriptionItm: "si_" + suffix, Price: "price_" + suffix, Product: "prod_" + suffix,
		PaymentMethod: "pm_" + suffix, Email: "jenny.rosen@example.com",
	}
}

// Types lists the event types there is a fixture for, sorted.
func Types() []string {
	out := make([]string, 0, len(objects))
	for t := range objects {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Has reports whether there is a fixture for eventType.
func Has(eventType string) bool { _, ok := objects[eventType]; return ok }

// ObjectOf names the stripe-go type of eventType's data.object
// ("checkout.session" for stripe.CheckoutSession…), "" when unknown.
func ObjectOf(eventType string) string { return objects[eventType].object }

// Body is the JSON of a Stripe event of eventType with id eventID,
// created at now, about f's objects. An unknown type is an error that
// lists the known ones.
func Body(f Flow, eventType, eventID string, now time.Time) ([]byte, error) {
	o, ok := objects[eventType]
	if !ok {
		return nil, fmt.Errorf("stripefixture: no fixture for %q (one of %s)", eventType, strings.Join(Types(), ", "))
	}
	created := now.Unix()
	obj := f.replacer(created).Replace(o.tmpl)
	prev := ""
	if o.previous != "" {
		prev = ",\n    \"previous_attributes\": " + o.previous
	}
	return fmt.Appendf(nil, `{
  "id": %q,
  "object": "event",
  "api_version": %q,
  "created": %d,
  "data": {
    "object": %s%s
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": "req_%s", "idempotency_key": null},
  "type": %q
}`, eventID, APIVersion, created, strings.TrimSpace(obj), prev, strings.TrimPrefix(f.Customer, "cus_"), eventType), nil
}

// replacer fills a template's {{name}} placeholders with f's ids.
func (f Flow) replacer(created int64) *strings.Replacer {
	return strings.NewReplacer("{{cus}}", f.Customer, "{{pi}}", f.PaymentIntent, "{{ch}}", f.Charge,
		"{{re}}", f.Refund, "{{cs}}", f.CheckoutSession, "{{in}}", f.Invoice, "{{sub}}", f.Subscription,
		"{{si}}", f.SubscriptionItm, "{{price}}", f.Price, "{{prod}}", f.Product, "{{pm}}", f.PaymentMethod,
		"{{email}}", f.Email, "{{created}}", strconv.FormatInt(created, 10),
		"{{period_end}}", strconv.FormatInt(created+30*24*3600, 10))
}

// sprintf fills a template's %s verbs at package init; the {{…}}
// placeholders stay for Body.
func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
