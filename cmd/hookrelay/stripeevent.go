package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// StripeTestEvent returns a Stripe-shaped event body of the given type, as
// Stripe's API version 2023-10-16 sends it.
func StripeTestEvent(eventType string, now time.Time) []byte {
	id := func(prefix string) string {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return prefix + hex.EncodeToString(b)
	}
	return fmt.Appendf(nil, `{
  "id": %q,
  "object": "event",
  "api_version": "2023-10-16",
  "created": %d,
  "data": {
    "object": {
      "id": %q,
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
}`, id("evt_"), now.Unix(), id("pi_"), eventType)
}
