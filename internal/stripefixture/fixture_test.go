package stripefixture

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// required are the event types the issue asks for; more may exist.
var required = []string{"checkout.session.completed", "checkout.session.expired",
	"checkout.session.async_payment_succeeded", "payment_intent.succeeded", "payment_intent.payment_failed",
	"charge.refunded", "invoice.paid", "invoice.payment_failed", "customer.subscription.created",
	"customer.subscription.updated", "customer.subscription.deleted"}

// Every fixture passes stripe-go's own webhook.ConstructEvent (signature
// and API version) and its data.object decodes into the stripe-go type of
// its event, naming the flow's ids.
func TestFixturesDecodeWithStripeGo(t *testing.T) {
	for _, typ := range required {
		if !Has(typ) {
			t.Errorf("no fixture for %s", typ)
		}
	}
	f := NewFlow("flow1")
	now := time.Now()
	for _, typ := range Types() {
		body, err := Body(f, typ, "evt_"+strings.ReplaceAll(typ, ".", "_"), now)
		if err != nil {
			t.Fatal(err)
		}
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_test", Timestamp: now})
		ev, err := webhook.ConstructEvent(body, signed.Header, "whsec_test")
		if err != nil {
			t.Fatalf("%s: ConstructEvent: %v\n%s", typ, err, body)
		}
		if string(ev.Type) != typ || ev.APIVersion != stripe.APIVersion || ev.Created != now.Unix() {
			t.Fatalf("%s: event %+v", typ, ev)
		}
		raw := ev.Data.Raw
		switch ObjectOf(typ) {
		case "checkout.session":
			var cs stripe.CheckoutSession
			mustDecode(t, typ, raw, &cs)
			if cs.ID != f.CheckoutSession || cs.PaymentIntent.ID != f.PaymentIntent || cs.Customer.ID != f.Customer ||
				cs.AmountTotal != 2000 || !strings.Contains(cs.SuccessURL, "{CHECKOUT_SESSION_ID}") {
				t.Fatalf("%s: %+v", typ, cs)
			}
			wantPaid := typ == "checkout.session.completed" || typ == "checkout.session.async_payment_succeeded"
			if (cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid) != wantPaid ||
				(typ == "checkout.session.expired") != (cs.Status == stripe.CheckoutSessionStatusExpired) {
				t.Fatalf("%s: payment_status %s status %s", typ, cs.PaymentStatus, cs.Status)
			}
		case "payment_intent":
			var pi stripe.PaymentIntent
			mustDecode(t, typ, raw, &pi)
			ok := pi.ID == f.PaymentIntent && pi.Customer.ID == f.Customer
			if typ == "payment_intent.succeeded" {
				ok = ok && pi.Status == stripe.PaymentIntentStatusSucceeded && pi.LatestCharge.ID == f.Charge
			} else {
				ok = ok && pi.Status == stripe.PaymentIntentStatusRequiresPaymentMethod && pi.LastPaymentError != nil
			}
			if !ok {
				t.Fatalf("%s: %+v", typ, pi)
			}
		case "charge":
			var ch stripe.Charge
			mustDecode(t, typ, raw, &ch)
			if ch.ID != f.Charge || ch.PaymentIntent.ID != f.PaymentIntent || ch.Customer.ID != f.Customer ||
				!ch.Refunded || len(ch.Refunds.Data) != 1 || ch.Refunds.Data[0].ID != f.Refund {
				t.Fatalf("%s: %+v", typ, ch)
			}
		case "invoice":
			var in stripe.Invoice
			mustDecode(t, typ, raw, &in)
			if in.ID != f.Invoice || in.Customer.ID != f.Customer || in.Subscription.ID != f.Subscription ||
				in.PaymentIntent.ID != f.PaymentIntent || in.Paid != (typ == "invoice.paid") {
				t.Fatalf("%s: %+v", typ, in)
			}
		case "subscription":
			var sub stripe.Subscription
			mustDecode(t, typ, raw, &sub)
			if sub.ID != f.Subscription || sub.Customer.ID != f.Customer || len(sub.Items.Data) != 1 ||
				sub.Items.Data[0].Price.ID != f.Price || sub.LatestInvoice.ID != f.Invoice ||
				(sub.Status == stripe.SubscriptionStatusCanceled) != (typ == "customer.subscription.deleted") {
				t.Fatalf("%s: %+v", typ, sub)
			}
			if typ == "customer.subscription.updated" && ev.Data.PreviousAttributes["cancel_at_period_end"] != false {
				t.Fatalf("%s: previous_attributes %v", typ, ev.Data.PreviousAttributes)
			}
		default:
			t.Fatalf("%s: object %q has no check", typ, ObjectOf(typ))
		}
	}
	if _, err := Body(f, "nope.nothing", "evt_1", now); err == nil || !strings.Contains(err.Error(), "payment_intent.succeeded") {
		t.Fatalf("unknown type: %v", err)
	}
}

func mustDecode(t *testing.T, typ string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: decode data.object: %v\n%s", typ, err, raw)
	}
}
