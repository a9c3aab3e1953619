package provider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// BenchmarkStripeVerify verifies one signed 1 KB Stripe event and reads
// its id and type: the per-request cost of ingest verification.
func BenchmarkStripeVerify(b *testing.B) {
	const secret = "whsec_bench0123456789abcdefghijklmnop"
	v, err := New(Stripe, Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(fmt.Sprintf(`{"id":"evt_bench","object":"event","type":"invoice.paid","data":{"object":{"note":"%s"}}}`,
		strings.Repeat("x", 900)))
	now := time.Now()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now})
	req := &Request{Body: body, Header: http.Header{"Stripe-Signature": {sp.Header}}, Now: now}
	b.ReportAllocs()
	for range b.N {
		if r, err := v.Verify(req, []string{secret}); err != nil || r.EventID != "evt_bench" {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkJSONFields reads the top-level fields of a 1 KB event.
func BenchmarkJSONFields(b *testing.B) {
	body := []byte(fmt.Sprintf(`{"id":"evt_bench","object":"event","api_version":"2023-10-16","created":1700000000,`+
		`"data":{"object":{"id":"pi_1","amount":2000,"metadata":{"note":"%s"}}},"livemode":false,"type":"invoice.paid"}`,
		strings.Repeat("x", 800)))
	b.ReportAllocs()
	for range b.N {
		if f, ok := jsonFields(body); !ok || f["type"] != "invoice.paid" {
			b.Fatal(f)
		}
	}
}

// BenchmarkJSONFieldsDecode is the full decode jsonFields replaced, for
// comparison.
func BenchmarkJSONFieldsDecode(b *testing.B) {
	body := []byte(fmt.Sprintf(`{"id":"evt_bench","object":"event","api_version":"2023-10-16","created":1700000000,`+
		`"data":{"object":{"id":"pi_1","amount":2000,"metadata":{"note":"%s"}}},"livemode":false,"type":"invoice.paid"}`,
		strings.Repeat("x", 800)))
	b.ReportAllocs()
	for range b.N {
		if f, ok := decodeFields(body); !ok || f["type"] != "invoice.paid" {
			b.Fatal(f)
		}
	}
}
