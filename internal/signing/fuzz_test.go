package signing

import (
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
)

// FuzzSign signs random messages with every scheme: it must never panic,
// must refuse only ids that cannot travel as a header, and what it signs
// must verify with the receivers' libraries. The seeds run in plain go test.
func FuzzSign(f *testing.F) {
	f.Add([]byte(specBody), specID, int64(specTS))
	f.Add([]byte{}, "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", time.Now().Unix())
	f.Add([]byte("\x00\xff\xfe binary \r\n"), "a.b.c", int64(0))
	f.Add([]byte(`{"a":1}`), "", int64(-1))
	f.Add([]byte(`x`), "id with space", int64(math.MaxInt64))
	f.Add([]byte(`x`), "ünïcode", int64(math.MinInt64))
	f.Add(make([]byte, 70000), "evt_big", int64(1<<33))

	newest, older := specSecret, goldenSecretB
	secrets := []string{newest, older}
	sw := make([]*standardwebhooks.Webhook, len(secrets))
	for i, s := range secrets {
		var err error
		if sw[i], err = standardwebhooks.NewWebhook(s); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, body []byte, id string, ts int64) {
		msg := Message{ID: id, Timestamp: time.Unix(ts, 0), Body: body}
		h := http.Header{}
		err := Sign(StandardWebhooks, secrets, msg, h)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) || checkID(id) == nil && !msg.Timestamp.IsZero() {
				t.Fatalf("Sign(%q, %d): unexpected error %v", id, ts, err)
			}
			return
		}
		for i, wh := range sw {
			if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
				t.Fatalf("standard webhooks secret %d: %v (headers %v)", i, err, h)
			}
		}
		// The same message sent now passes the library's full check, tolerance included.
		msg.Timestamp = time.Now()
		if err := Sign(StandardWebhooks, secrets, msg, h); err != nil {
			t.Fatal(err)
		}
		if err := sw[0].Verify(body, h); err != nil {
			t.Fatalf("Verify at now: %v", err)
		}

		msg.Timestamp = time.Unix(ts, 0)
		if err := Sign(Stripe, secrets, msg, h); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if err := webhook.ValidatePayloadIgnoringTolerance(body, h.Get("Stripe-Signature"), s); err != nil {
				t.Fatalf("stripe: %v (%s)", err, h.Get("Stripe-Signature"))
			}
		}
		if err := Sign(GitHub, secrets, msg, h); err != nil {
			t.Fatal(err)
		}
		if err := github.ValidateSignature(h.Get(github.SHA256SignatureHeader), body, []byte(newest)); err != nil {
			t.Fatalf("github: %v", err)
		}
	})
}
