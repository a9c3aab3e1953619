package stripefixture

// fixture is one event type's data.object template and, for *.updated
// events, its data.previous_attributes.
type fixture struct {
	object   string
	tmpl     string
	previous string
}

// checkoutSession is a paid one-time Checkout Session of the flow.
const checkoutSession = `{
      "id": "{{cs}}",
      "object": "checkout.session",
      "amount_subtotal": 2000,
      "amount_total": 2000,
      "cancel_url": "https://example.com/cancel",
      "client_reference_id": "order_6735",
      "created": {{created}},
      "currency": "usd",
      "customer": "{{cus}}",
      "customer_details": {"email": "{{email}}", "name": "Jenny Rosen", "phone": null, "tax_exempt": "none"},
      "customer_email": "{{email}}",
      "expires_at": {{period_end}},
      "livemode": false,
      "metadata": {"order_id": "6735"},
      "mode": "payment",
      "payment_intent": "{{pi}}",
      "payment_method_types": ["card"],
      "payment_status": "%s",
      "status": "%s",
      "success_url": "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
      "url": %s
    }`

const paymentIntent = `{
      "id": "{{pi}}",
      "object": "payment_intent",
      "amount": 2000,
      "amount_received": %s,
      "capture_method": "automatic",
      "created": {{created}},
      "currency": "usd",
      "customer": "{{cus}}",
      "last_payment_error": %s,
      "latest_charge": %s,
      "livemode": false,
      "metadata": {"order_id": "6735"},
      "payment_method": "{{pm}}",
      "payment_method_types": ["card"],
      "receipt_email": "{{email}}",
      "status": "%s"
    }`

const charge = `{
      "id": "{{ch}}",
      "object": "charge",
      "amount": 2000,
      "amount_captured": 2000,
      "amount_refunded": 2000,
      "captured": true,
      "created": {{created}},
      "currency": "usd",
      "customer": "{{cus}}",
      "livemode": false,
      "metadata": {"order_id": "6735"},
      "paid": true,
      "payment_intent": "{{pi}}",
      "payment_method": "{{pm}}",
      "refunded": true,
      "refunds": {"object": "list", "data": [{"id": "{{re}}", "object": "refund", "amount": 2000,
        "charge": "{{ch}}", "created": {{created}}, "currency": "usd", "payment_intent": "{{pi}}",
        "reason": "requested_by_customer", "status": "succeeded"}], "has_more": false, "total_count": 1,
        "url": "/v1/charges/{{ch}}/refunds"},
      "status": "succeeded"
    }`

const invoice = `{
      "id": "{{in}}",
      "object": "invoice",
      "amount_due": 2000,
      "amount_paid": %s,
      "amount_remaining": %s,
      "attempt_count": 1,
      "attempted": true,
      "billing_reason": "subscription_cycle",
      "charge": "{{ch}}",
      "collection_method": "charge_automatically",
      "created": {{created}},
      "currency": "usd",
      "customer": "{{cus}}",
      "customer_email": "{{email}}",
      "livemode": false,
      "paid": %s,
      "payment_intent": "{{pi}}",
      "period_end": {{period_end}},
      "period_start": {{created}},
      "status": "%s",
      "subscription": "{{sub}}",
      "total": 2000
    }`

const subscription = `{
      "id": "{{sub}}",
      "object": "subscription",
      "cancel_at_period_end": %s,
      "canceled_at": %s,
      "collection_method": "charge_automatically",
      "created": {{created}},
      "currency": "usd",
      "current_period_end": {{period_end}},
      "current_period_start": {{created}},
      "customer": "{{cus}}",
      "ended_at": %s,
      "items": {"object": "list", "data": [{"id": "{{si}}", "object": "subscription_item", "created": {{created}},
        "price": {"id": "{{price}}", "object": "price", "active": true, "currency": "usd", "product": "{{prod}}",
          "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
          "type": "recurring", "unit_amount": 2000},
        "quantity": 1, "subscription": "{{sub}}"}], "has_more": false, "total_count": 1,
        "url": "/v1/subscription_items?subscription={{sub}}"},
      "latest_invoice": "{{in}}",
      "livemode": false,
      "metadata": {},
      "start_date": {{created}},
      "status": "%s"
    }`

const paymentError = `{"code": "card_declined", "decline_code": "generic_decline",
        "message": "Your card was declined.", "type": "card_error"}`

// objects are the fixtures by event type.
var objects = map[string]fixture{
	"checkout.session.completed": {object: "checkout.session",
		tmpl: sprintf(checkoutSession, "paid", "complete", "null")},
	"checkout.session.async_payment_succeeded": {object: "checkout.session",
		tmpl: sprintf(checkoutSession, "paid", "complete", "null")},
	"checkout.session.async_payment_failed": {object: "checkout.session",
		tmpl: sprintf(checkoutSession, "unpaid", "complete", "null")},
	"checkout.session.expired": {object: "checkout.session",
		tmpl: sprintf(checkoutSession, "unpaid", "expired", "null")},
	"payment_intent.succeeded": {object: "payment_intent",
		tmpl: sprintf(paymentIntent, "2000", "null", `"{{ch}}"`, "succeeded")},
	"payment_intent.payment_failed": {object: "payment_intent",
		tmpl: sprintf(paymentIntent, "0", paymentError, "null", "requires_payment_method")},
	"charge.refunded": {object: "charge", tmpl: charge},
	"invoice.paid": {object: "invoice",
		tmpl: sprintf(invoice, "2000", "0", "true", "paid")},
	"invoice.payment_failed": {object: "invoice",
		tmpl: sprintf(invoice, "0", "2000", "false", "open")},
	"customer.subscription.created": {object: "subscription",
		tmpl: sprintf(subscription, "false", "null", "null", "active")},
	"customer.subscription.updated": {object: "subscription",
		tmpl:     sprintf(subscription, "true", "{{created}}", "null", "active"),
		previous: `{"cancel_at_period_end": false, "canceled_at": null}`},
	"customer.subscription.deleted": {object: "subscription",
		tmpl: sprintf(subscription, "false", "{{created}}", "{{created}}", "canceled")},
}
