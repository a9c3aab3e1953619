package signing

// Cross-checks: what Sign produces must verify with the libraries receiving
// apps actually use, and must fail with a wrong secret.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// rotated returns a newest and an older secret, plus one never used.
func rotated(t *testing.T, scheme Scheme) (newest, older, wrong string) {
	t.Helper()
	var s [3]string
	for i := range s {
		var err error
		if s[i], err = NewSecret(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return s[0], s[1], s[2]
}

func signNow(t *testing.T, scheme Scheme, secrets []string, body []byte) http.Header {
	t.Helper()
	h := http.Header{}
	msg := Message{ID: "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", Timestamp: time.Now(), Body: body}
	if err := Sign(scheme, secrets, msg, h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestStandardWebhooksLibraries(t *testing.T) {
	newest, older, wrong := rotated(t, StandardWebhooks)
	edPriv, _, _ := NewEd25519Secret()
	body := []byte(`{"type":"invoice.paid","data":{"id":"in_1"}}`)
	// The ed25519 entry sits between the HMAC ones: libraries must skip it.
	h := signNow(t, StandardWebhooks, []string{newest, edPriv, older}, body)

	svixHeaders := http.Header{}
	for k, v := range h {
		svixHeaders[strings.Replace(k, "Webhook-", "Svix-", 1)] = v
	}
	verifiers := map[string]func(secret string, hdr http.Header) error{
		"standardwebhooks": func(secret string, hdr http.Header) error {
			wh, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			return wh.Verify(body, hdr)
		},
		"svix": func(secret string, hdr http.Header) error {
			wh, err := svix.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			return wh.Verify(body, hdr)
		},
	}
	for name, verify := range verifiers {
		for _, hdr := range []http.Header{h, svixHeaders} {
			if name == "standardwebhooks" && hdr.Get("webhook-id") == "" {
				continue // the Standard Webhooks library reads webhook-* only
			}
			for _, secret := range []string{newest, older} {
				if err := verify(secret, hdr); err != nil {
					t.Errorf("%s rejects a rotated secret: %v", name, err)
				}
			}
			if err := verify(wrong, hdr); err == nil {
				t.Errorf("%s accepts a wrong secret", name)
			}
			tampered := append([]byte(nil), body...)
			tampered[2] ^= 1
			old := body
			body = tampered
			if err := verify(newest, hdr); err == nil {
				t.Errorf("%s accepts a tampered body", name)
			}
			body = old
		}
	}
}

func TestEd25519Verifies(t *testing.T) {
	priv, pub, err := NewEd25519Secret()
	if err != nil {
		t.Fatal(err)
	}
	otherPriv, otherPub, _ := NewEd25519Secret()
	body := []byte(`{"ok":true}`)
	h := signNow(t, StandardWebhooks, []string{priv, otherPriv}, body)
	signed := []byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body))

	verified := map[string]int{}
	for _, entry := range strings.Split(h.Get("webhook-signature"), " ") {
		sig, ok := strings.CutPrefix(entry, "v1a,")
		if !ok {
			t.Fatalf("entry %q is not v1a", entry)
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{pub, otherPub} {
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(p, "whpk_"))
			if ed25519.Verify(key, signed, raw) {
				verified[p]++
			}
		}
	}
	if verified[pub] != 1 || verified[otherPub] != 1 {
		t.Fatalf("each public key should verify exactly one entry: %v", verified)
	}
	// The published key from PublicKey is the one that verifies.
	if got, _ := PublicKey(priv); got != pub {
		t.Fatalf("PublicKey = %q, want %q", got, pub)
	}
}

func TestStripeLibrary(t *testing.T) {
	newest, older, wrong := rotated(t, Stripe)
	// api_version must be what stripe-go v76 expects for ConstructEvent.
	body := []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"charge.succeeded","data":{"object":{}}}`)
	h := signNow(t, Stripe, []string{newest, older}, body)
	if len(h) != 1 {
		t.Fatalf("stripe scheme set extra headers: %v", h)
	}
	sig := h.Get("Stripe-Signature")
	for _, secret := range []string{newest, older} {
		if err := webhook.ValidatePayloadWithTolerance(body, sig, secret, 5*time.Minute); err != nil {
			t.Errorf("ValidatePayloadWithTolerance: %v", err)
		}
		ev, err := webhook.ConstructEvent(body, sig, secret)
		if err != nil || ev.ID != "evt_1" || ev.Type != "charge.succeeded" {
			t.Errorf("ConstructEvent = %+v, %v", ev, err)
		}
	}
	if err := webhook.ValidatePayloadWithTolerance(body, sig, wrong, 5*time.Minute); err == nil {
		t.Error("stripe-go accepts a wrong secret")
	}
	// Signed with the raw base64-decoded key (the Standard Webhooks way) would not verify.
	if err := webhook.ValidatePayload(body[1:], sig, newest); err == nil {
		t.Error("stripe-go accepts a tampered body")
	}
}

func TestGitHubLibrary(t *testing.T) {
	newest, older, wrong := rotated(t, GitHub)
	body := []byte(`{"action":"opened","number":1}`)
	h := signNow(t, GitHub, []string{newest, older}, body)
	if len(h) != 1 {
		t.Fatalf("github scheme set extra headers: %v", h)
	}
	sig := h.Get(github.SHA256SignatureHeader)
	if err := github.ValidateSignature(sig, body, []byte(newest)); err != nil {
		t.Errorf("ValidateSignature: %v", err)
	}
	if got, err := github.ValidatePayloadFromBody("application/json", bytes.NewReader(body), sig, []byte(newest)); err != nil || !bytes.Equal(got, body) {
		t.Errorf("ValidatePayloadFromBody = %q, %v", got, err)
	}
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	if got, err := github.ValidatePayload(req, []byte(newest)); err != nil || !bytes.Equal(got, body) {
		t.Errorf("ValidatePayload(request) = %q, %v", got, err)
	}
	// GitHub's format has one signature: the older secret is not in it.
	for name, secret := range map[string]string{"wrong": wrong, "older": older} {
		if err := github.ValidateSignature(sig, body, []byte(secret)); err == nil {
			t.Errorf("go-github accepts the %s secret", name)
		}
	}
}

// TestGoldenVerifiesWithLibraries checks the stored vectors against the
// libraries too, so -update cannot bless a wrong signature.
func TestGoldenVerifiesWithLibraries(t *testing.T) {
	for _, c := range goldenCases() {
		hdr := http.Header{}
		for k, v := range signGolden(t, c) {
			hdr.Set(k, v)
		}
		body := []byte(c.Body)
		for i, secret := range c.Secrets {
			var err error
			switch {
			case c.Scheme == StandardWebhooks && strings.HasPrefix(secret, PrivateKeyPrefix):
				continue // covered by TestEd25519Verifies
			case c.Scheme == StandardWebhooks:
				wh, _ := standardwebhooks.NewWebhook(secret)
				err = wh.VerifyIgnoringTimestamp(body, hdr)
			case c.Scheme == Stripe:
				err = webhook.ValidatePayloadIgnoringTolerance(body, hdr.Get("Stripe-Signature"), secret)
			case c.Scheme == GitHub && i == 0:
				err = github.ValidateSignature(hdr.Get(github.SHA256SignatureHeader), body, []byte(secret))
			}
			if err != nil {
				t.Errorf("%s: secret %d: %v", c.Name, i, err)
			}
		}
	}
}
