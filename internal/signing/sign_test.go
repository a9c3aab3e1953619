package signing

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSpecVector(t *testing.T) {
	h := http.Header{}
	msg := Message{ID: specID, Timestamp: time.Unix(specTS, 0), Body: []byte(specBody)}
	if err := Sign(StandardWebhooks, []string{specSecret}, msg, h); err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != specSig {
		t.Errorf("webhook-signature = %q, want %q", got, specSig)
	}
	if got := h.Get("webhook-id"); got != specID {
		t.Errorf("webhook-id = %q", got)
	}
	if got := h.Get("webhook-timestamp"); got != "1614265330" {
		t.Errorf("webhook-timestamp = %q", got)
	}
}

func TestSignRotationOrder(t *testing.T) {
	other, _ := NewSecret(StandardWebhooks)
	msg := Message{ID: specID, Timestamp: time.Unix(specTS, 0), Body: []byte(specBody)}
	h := http.Header{}
	if err := Sign(StandardWebhooks, []string{specSecret, other}, msg, h); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h.Get("webhook-signature"), " ")
	if len(parts) != 2 || parts[0] != specSig || !strings.HasPrefix(parts[1], "v1,") || parts[1] == specSig {
		t.Fatalf("signatures = %q, want the newest (spec) first", parts)
	}
}

func TestSignNoneAndReplace(t *testing.T) {
	h := http.Header{"X-Keep": {"1"}}
	if err := Sign(None, nil, Message{}, h); err != nil || len(h) != 1 {
		t.Fatalf("None: err %v, header %v", err, h)
	}
	h.Set("Webhook-Signature", "v1,stale")
	msg := Message{ID: specID, Timestamp: time.Unix(specTS, 0), Body: []byte(specBody)}
	if err := Sign(StandardWebhooks, []string{specSecret}, msg, h); err != nil {
		t.Fatal(err)
	}
	if v := h.Values("webhook-signature"); len(v) != 1 || v[0] != specSig {
		t.Fatalf("stale value kept: %q", v)
	}
}

func TestSignErrors(t *testing.T) {
	ok := Message{ID: "evt_1", Timestamp: time.Unix(specTS, 0), Body: []byte("{}")}
	_, pub, _ := NewEd25519Secret()
	tests := []struct {
		name    string
		scheme  Scheme
		secrets []string
		msg     Message
		want    error
	}{
		{"unknown scheme", "sha1", []string{specSecret}, ok, ErrUnknownScheme},
		{"sw no secrets", StandardWebhooks, nil, ok, ErrNoSecret},
		{"sw empty secret", StandardWebhooks, []string{"whsec_"}, ok, ErrNoSecret},
		{"sw bad base64", StandardWebhooks, []string{"whsec_not*base64"}, ok, ErrBadSecret},
		{"sw public key", StandardWebhooks, []string{pub}, ok, ErrBadSecret},
		{"sw bad ed25519", StandardWebhooks, []string{"whsk_AAAA"}, ok, ErrBadSecret},
		{"sw bad second secret", StandardWebhooks, []string{specSecret, "whsec_%%"}, ok, ErrBadSecret},
		{"sw empty id", StandardWebhooks, []string{specSecret}, Message{Timestamp: ok.Timestamp}, ErrBadMessage},
		{"sw id with newline", StandardWebhooks, []string{specSecret}, Message{ID: "a\nb", Timestamp: ok.Timestamp}, ErrBadMessage},
		{"sw zero time", StandardWebhooks, []string{specSecret}, Message{ID: "evt_1"}, ErrBadMessage},
		{"stripe no secrets", Stripe, nil, ok, ErrNoSecret},
		{"stripe empty secret", Stripe, []string{specSecret, ""}, ok, ErrNoSecret},
		{"stripe zero time", Stripe, []string{specSecret}, Message{}, ErrBadMessage},
		{"github no secrets", GitHub, []string{}, ok, ErrNoSecret},
		{"github empty secret", GitHub, []string{""}, ok, ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			err := Sign(tt.scheme, tt.secrets, tt.msg, h)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "MfKQ9r8G") {
				t.Fatalf("error leaks the secret: %v", err)
			}
			if len(h) != 0 {
				t.Fatalf("headers set on error: %v", h)
			}
		})
	}
}

func TestParseScheme(t *testing.T) {
	for _, s := range Schemes() {
		if got, err := ParseScheme(string(s)); err != nil || got != s {
			t.Errorf("ParseScheme(%q) = %q, %v", s, got, err)
		}
	}
	if got, err := ParseScheme(""); err != nil || got != StandardWebhooks {
		t.Errorf(`ParseScheme("") = %q, %v`, got, err)
	}
	_, err := ParseScheme("Stripe")
	if !errors.Is(err, ErrUnknownScheme) || !strings.Contains(err.Error(), `"Stripe"`) {
		t.Errorf("ParseScheme(Stripe) err = %v", err)
	}
	s := Schemes()
	s[0] = "mutated"
	if Schemes()[0] != StandardWebhooks {
		t.Error("Schemes shares its backing array")
	}
}

func TestNewSecret(t *testing.T) {
	for _, s := range []Scheme{StandardWebhooks, Stripe, GitHub} {
		a, err := NewSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewSecret(s)
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
		if !strings.HasPrefix(a, "whsec_") || err != nil || len(raw) != 32 || a == b {
			t.Errorf("NewSecret(%s) = %q (decode err %v), second %q", s, a, err, b)
		}
	}
	if s, err := NewSecret(None); s != "" || err != nil {
		t.Errorf("NewSecret(None) = %q, %v", s, err)
	}
	if _, err := NewSecret("x"); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("NewSecret(x) err = %v", err)
	}
}

func TestEd25519Secret(t *testing.T) {
	priv, pub, err := NewEd25519Secret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(priv, "whsk_") || !strings.HasPrefix(pub, "whpk_") {
		t.Fatalf("prefixes: %q %q", priv[:5], pub[:5])
	}
	if got, err := PublicKey(priv); err != nil || got != pub {
		t.Fatalf("PublicKey = %q, %v; want %q", got, err, pub)
	}
	// A 32-byte seed is accepted and gives the same public key.
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(priv, "whsk_"))
	seed := "whsk_" + base64.StdEncoding.EncodeToString(raw[:ed25519.SeedSize])
	if got, err := PublicKey(seed); err != nil || got != pub {
		t.Fatalf("PublicKey(seed) = %q, %v", got, err)
	}
	// A 64-byte key whose public half was tampered with is refused.
	raw[40] ^= 1
	if _, err := PublicKey("whsk_" + base64.StdEncoding.EncodeToString(raw)); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("mismatched key err = %v", err)
	}
	for _, bad := range []string{specSecret, pub, "whsk_***", "whsk_AAAA"} {
		if _, err := PublicKey(bad); !errors.Is(err, ErrBadSecret) {
			t.Errorf("PublicKey(%.10q) err = %v", bad, err)
		}
	}
}

func BenchmarkSignStandardWebhooks(b *testing.B) {
	msg := Message{ID: "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", Timestamp: time.Unix(specTS, 0), Body: make([]byte, 1024)}
	secrets := []string{specSecret}
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		if err := Sign(StandardWebhooks, secrets, msg, h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGitHubDocsVector is the example from GitHub's "Validating webhook
// deliveries" page, an independent check of the GitHub scheme.
func TestGitHubDocsVector(t *testing.T) {
	h := http.Header{}
	if err := Sign(GitHub, []string{"It's a Secret to Everybody"}, Message{Body: []byte("Hello, World!")}, h); err != nil {
		t.Fatal(err)
	}
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := h.Get("X-Hub-Signature-256"); got != want || len(h) != 1 {
		t.Fatalf("header %v, want only X-Hub-Signature-256 %s", h, want)
	}
}

func BenchmarkSignOtherSchemes(b *testing.B) {
	msg := Message{ID: "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", Timestamp: time.Unix(specTS, 0), Body: make([]byte, 1024)}
	edPriv, _, _ := NewEd25519Secret()
	for _, bc := range []struct {
		name    string
		scheme  Scheme
		secrets []string
	}{
		{"standard-webhooks-rotation", StandardWebhooks, []string{specSecret, goldenSecretB}},
		{"standard-webhooks-ed25519", StandardWebhooks, []string{edPriv}},
		{"stripe", Stripe, []string{specSecret}},
		{"github", GitHub, []string{specSecret}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				if err := Sign(bc.scheme, bc.secrets, msg, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
