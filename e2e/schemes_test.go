package e2e_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// schemeEndpoint creates an endpoint with a signing scheme, subscribed to
// src, whose sink runs check on every request.
func (e *env) schemeEndpoint(t *testing.T, src *store.Source, scheme string, check func(http.Header, []byte) error) (*store.Endpoint, string, *sink) {
	t.Helper()
	s := &sink{check: check}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	ids, u := []string{src.ID}, srv.URL+"/hook"
	ep, sec, err := e.api.CreateEndpoint(context.Background(), e.actor,
		relay.EndpointInput{URL: &u, SourceIDs: &ids, SigningScheme: &scheme})
	testenv.Must(t, err)
	return ep, sec, s
}

// deliverOne ingests a Stripe event and waits until its delivery to ep
// settles; a sink that refused the signature fails the test with why.
func (e *env) deliverOne(t *testing.T, src *store.Source, ep *store.Endpoint, s *sink, body []byte) string {
	t.Helper()
	status, resp := e.postStripe(src, body, stripeSecret, time.Now())
	if status != 200 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	evID := resp["id"].(string)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var d store.Delivery
		err := e.db.NewSelect().Model(&d).Where("event_id = ? AND endpoint_id = ?", evID, ep.ID).Scan(context.Background())
		if err == nil && d.Status != store.StatusPending {
			s.mu.Lock()
			defer s.mu.Unlock()
			if d.Status != store.StatusSucceeded || len(s.errs) > 0 {
				t.Fatalf("delivery %s (HTTP %d); the endpoint said: %v", d.Status, d.LastStatus, s.errs)
			}
			return evID
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery of %s still pending (err %v)", evID, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noHeaders fails when any of the named headers is present.
func noHeaders(h http.Header, names ...string) error {
	for _, n := range names {
		if h.Get(n) != "" {
			return fmt.Errorf("unexpected %s header", n)
		}
	}
	return nil
}

// An app that verifies Stripe webhooks with stripe-go keeps working behind
// the relay with its endpoint secret: ValidatePayloadWithTolerance and, for
// a body with Stripe's pinned api_version, ConstructEvent.
func TestStripeSchemeVerifiedByStripeGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	var secret string // read by the sink under s.mu
	ep, sec, s := e.schemeEndpoint(t, src, "stripe", func(h http.Header, body []byte) error {
		if err := noHeaders(h, "Webhook-Signature", "X-Hub-Signature-256"); err != nil {
			return err
		}
		sig := h.Get("Stripe-Signature")
		if err := webhook.ValidatePayloadWithTolerance(body, sig, secret, 5*time.Minute); err != nil {
			return fmt.Errorf("ValidatePayloadWithTolerance: %w", err)
		}
		if err := webhook.ValidatePayloadWithTolerance(body, sig, "whsec_someone_else", 5*time.Minute); err == nil {
			return errors.New("a wrong secret verified")
		}
		if bytes.Contains(body, []byte(`"api_version":"2023-10-16"`)) {
			ev, err := webhook.ConstructEvent(body, sig, secret)
			if err != nil {
				return fmt.Errorf("ConstructEvent: %w", err)
			}
			if ev.ID != "evt_scheme_stripe" || ev.Type != "charge.refunded" {
				return fmt.Errorf("ConstructEvent read %s %s", ev.ID, ev.Type)
			}
		}
		return nil
	})
	s.mu.Lock()
	secret = sec
	s.mu.Unlock()
	e.deliverOne(t, src, ep, s, stripeEvent("evt_scheme_stripe", "charge.refunded"))
	// A body from another API version still validates; only ConstructEvent pins it.
	e.deliverOne(t, src, ep, s, []byte(`{"id":"evt_scheme_old","object":"event","api_version":"2020-08-27","type":"charge.refunded"}`))
}

// An app that verifies GitHub webhooks with go-github keeps working.
func TestGitHubSchemeVerifiedByGoGitHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	var secret string // read by the sink under s.mu
	ep, sec, s := e.schemeEndpoint(t, src, "github", func(h http.Header, body []byte) error {
		if err := noHeaders(h, "Webhook-Signature", "Stripe-Signature"); err != nil {
			return err
		}
		if err := github.ValidateSignature(h.Get("X-Hub-Signature-256"), body, []byte(secret)); err != nil {
			return fmt.Errorf("go-github: %w", err)
		}
		if github.ValidateSignature(h.Get("X-Hub-Signature-256"), body, []byte("wrong")) == nil {
			return errors.New("a wrong secret verified")
		}
		// go-github dispatches on the event header.
		req, _ := http.NewRequest(http.MethodPost, "/", nil)
		req.Header = h
		if github.WebHookType(req) != "invoice.paid" || github.DeliveryID(req) != h.Get("Webhook-Id") {
			return fmt.Errorf("X-GitHub-Event %q, X-GitHub-Delivery %q", github.WebHookType(req), github.DeliveryID(req))
		}
		return nil
	})
	s.mu.Lock()
	secret = sec
	s.mu.Unlock()
	e.deliverOne(t, src, ep, s, stripeEvent("evt_scheme_github", "invoice.paid"))
}

// Scheme none sends no signature at all, but still the stable webhook-id.
func TestNoneSchemeSendsNoSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	ep, secret, s := e.schemeEndpoint(t, src, "none", func(h http.Header, _ []byte) error {
		if err := noHeaders(h, "Webhook-Signature", "Webhook-Timestamp", "Stripe-Signature", "X-Hub-Signature-256", "X-Hub-Signature"); err != nil {
			return err
		}
		if h.Get("Webhook-Id") == "" {
			return errors.New("no webhook-id")
		}
		return nil
	})
	if secret != "" || len(ep.Secrets) != 0 {
		t.Fatalf("scheme none was given a secret")
	}
	e.deliverOne(t, src, ep, s, stripeEvent("evt_scheme_none", "invoice.paid"))
}

// After a rotation both secrets sign during the grace period, so a
// consumer holding either verifies with the Standard Webhooks and the Svix
// libraries; once the grace period ends only the new one does.
func TestRotatedSecretVerifiesWithBothDuringGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	// Read by the sink under s.mu.
	var oldSecret, newSecret string
	var wantOld bool // whether the old secret must still verify
	ep, first, s := e.schemeEndpoint(t, src, "standard-webhooks", func(h http.Header, body []byte) error {
		var errs []error
		for _, sec := range []string{newSecret, oldSecret} {
			swh, err := standardwebhooks.NewWebhook(sec)
			if err != nil {
				return err
			}
			sv, err := svix.NewWebhook(sec)
			if err != nil {
				return err
			}
			// The worker signs on the real clock, so the timestamp is
			// checked too (the libraries' 5 min tolerance).
			for lib, err := range map[string]error{"standard-webhooks": swh.Verify(body, h), "svix": sv.Verify(body, h)} {
				switch {
				case sec == newSecret && err != nil:
					errs = append(errs, fmt.Errorf("%s rejects the new secret: %w", lib, err))
				case sec == oldSecret && wantOld && err != nil:
					errs = append(errs, fmt.Errorf("%s rejects the old secret in its grace period: %w", lib, err))
				case sec == oldSecret && !wantOld && err == nil:
					errs = append(errs, fmt.Errorf("%s accepts the old secret after its grace period", lib))
				}
			}
		}
		if n := len(strings.Fields(h.Get("Webhook-Signature"))); wantOld && n != 2 || !wantOld && n != 1 {
			errs = append(errs, fmt.Errorf("%d signatures: %q", n, h.Get("Webhook-Signature")))
		}
		return errors.Join(errs...)
	})
	// The grace period ends when the test moves the old secret's recorded
	// expiry into the past, not after a wall-clock wait a slow delivery
	// could overrun; every clock stays the real one, so signatures keep
	// timestamps a consumer accepts and retries are due when they say.
	const grace = time.Hour
	second, err := e.api.RotateEndpointSecret(context.Background(), e.actor, ep.ID, grace)
	testenv.Must(t, err)
	if second == first || !strings.HasPrefix(second, "whsec_") {
		t.Fatalf("rotation gave %q", second[:6])
	}
	s.mu.Lock()
	oldSecret, newSecret, wantOld = first, second, true
	s.mu.Unlock()
	e.deliverOne(t, src, ep, s, stripeEvent("evt_rot_1", "invoice.paid"))

	_, err = e.db.NewRaw(`UPDATE endpoints SET secrets = (SELECT jsonb_agg(CASE WHEN x->>'expires_at' IS NOT NULL
		THEN jsonb_set(x, '{expires_at}', to_jsonb(now() - interval '1 minute')) ELSE x END ORDER BY n)
		FROM jsonb_array_elements(secrets) WITH ORDINALITY AS a(x, n)) WHERE id = ?`, ep.ID).Exec(context.Background())
	testenv.Must(t, err)
	s.mu.Lock()
	wantOld = false
	s.mu.Unlock()
	e.deliverOne(t, src, ep, s, stripeEvent("evt_rot_2", "invoice.paid"))
}

// An ed25519 endpoint signs v1a; the team verifies it with nothing but
// crypto/ed25519 and the public key the API shows, which survives rotation
// (both keys listed and signing during grace). The private key appears only
// in the create and rotate answers.
func TestEd25519EndpointVerifiedWithPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	tok, _, err := e.api.CreateToken(context.Background(), e.actor, "ed25519 test", nil)
	testenv.Must(t, err)

	var pubs []ed25519.PublicKey
	s := &sink{}
	s.check = func(h http.Header, body []byte) error {
		signed := []byte(h.Get("Webhook-Id") + "." + h.Get("Webhook-Timestamp") + "." + string(body))
		var sigs [][]byte
		for _, vs := range strings.Fields(h.Get("Webhook-Signature")) {
			ver, b64, _ := strings.Cut(vs, ",")
			if ver != "v1a" {
				return fmt.Errorf("unexpected signature version %q", ver)
			}
			sig, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return err
			}
			sigs = append(sigs, sig)
		}
		if len(sigs) != len(pubs) {
			return fmt.Errorf("%d signatures for %d public keys", len(sigs), len(pubs))
		}
		for _, pub := range pubs {
			ok := false
			for _, sig := range sigs {
				ok = ok || ed25519.Verify(pub, signed, sig)
			}
			if !ok {
				return fmt.Errorf("no v1a signature verifies with %x", pub[:4])
			}
		}
		return nil
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	var created struct {
		ID         string   `json:"id"`
		Secret     string   `json:"secret"`
		PublicKeys []string `json:"public_keys"`
	}
	status, raw := e.apiCall(tok, "POST", "/api/v1/endpoints", map[string]any{"url": srv.URL, "source_ids": []string{src.ID},
		"signing_key_type": "ed25519"}, &created)
	if status != 201 || !strings.HasPrefix(created.Secret, "whsk_") || len(created.PublicKeys) != 1 {
		t.Fatalf("create: %d %s", status, raw)
	}
	ep, err := store.New(e.db).GetEndpoint(context.Background(), e.team, created.ID)
	testenv.Must(t, err)

	getKeys := func(wantN int) {
		t.Helper()
		var got struct {
			Secret     string   `json:"secret"`
			PublicKeys []string `json:"public_keys"`
		}
		status, raw := e.apiCall(tok, "GET", "/api/v1/endpoints/"+created.ID, nil, &got)
		if status != 200 || got.Secret != "" || len(got.PublicKeys) != wantN {
			t.Fatalf("get: %d %s, want %d public keys", status, raw, wantN)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		pubs = pubs[:0]
		for _, k := range got.PublicKeys {
			b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(k, "whpk_"))
			if !strings.HasPrefix(k, "whpk_") || err != nil || len(b) != ed25519.PublicKeySize {
				t.Fatalf("public key %q", k)
			}
			pubs = append(pubs, b)
		}
		if bytes.Contains(raw, []byte(created.Secret[5:40])) {
			t.Fatal("GET shows the private key")
		}
	}
	getKeys(1)
	e.deliverOne(t, src, ep, s, stripeEvent("evt_ed_1", "invoice.paid"))

	var rotated struct {
		Secret string `json:"secret"`
	}
	if status, raw := e.apiCall(tok, "POST", "/api/v1/endpoints/"+created.ID+"/secret/rotate", map[string]any{"grace": "1h"}, &rotated); status != 200 ||
		!strings.HasPrefix(rotated.Secret, "whsk_") {
		t.Fatalf("rotate: %d %s (want an ed25519 key again)", status, raw)
	}
	getKeys(2)
	e.deliverOne(t, src, ep, s, stripeEvent("evt_ed_2", "invoice.paid"))

	// The key type and the scheme it needs are fixed.
	for _, c := range []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{"POST", "/api/v1/endpoints", map[string]any{"url": srv.URL, "signing_scheme": "stripe", "signing_key_type": "ed25519"}, "signing_key_type"},
		{"POST", "/api/v1/endpoints", map[string]any{"url": srv.URL, "signing_scheme": "none", "signing_key_type": "ed25519"}, "signing_key_type"},
		{"POST", "/api/v1/endpoints", map[string]any{"url": srv.URL, "signing_key_type": "rsa"}, "signing_key_type"},
		{"PATCH", "/api/v1/endpoints/" + created.ID, map[string]any{"signing_scheme": "github"}, "signing_scheme"},
		{"PATCH", "/api/v1/endpoints/" + created.ID, map[string]any{"signing_key_type": "hmac"}, "signing_key_type"},
	} {
		status, raw := e.apiCall(tok, c.method, c.path, c.body, nil)
		if status != 422 || !bytes.Contains(raw, []byte(c.field)) {
			t.Errorf("%s %s %v: %d %s, want 422 naming %s", c.method, c.path, c.body, status, raw, c.field)
		}
	}
	// An HMAC endpoint shows no public keys.
	var plain map[string]any
	if status, raw := e.apiCall(tok, "POST", "/api/v1/endpoints", map[string]any{"url": srv.URL, "signing_key_type": "hmac"}, &plain); status != 201 ||
		plain["public_keys"] != nil || !strings.HasPrefix(plain["secret"].(string), "whsec_") {
		t.Fatalf("hmac endpoint: %d %s", status, raw)
	}
}

// apiCall sends a JSON request with a bearer token and decodes the answer.
func (e *env) apiCall(tok, method, path string, body any, out any) (int, []byte) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		testenv.Must(e.t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.baseURL+path, rd)
	testenv.Must(e.t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(e.t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, buf.Bytes())
		}
	}
	return resp.StatusCode, buf.Bytes()
}

// An endpoint created with scheme none and switched to a signing scheme
// gets a secret to sign with (read through the audited reveal); without
// one every delivery would fail.
func TestSchemeSwitchFromNoneSigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	var secret string // read by the sink under s.mu
	ep, _, s := e.schemeEndpoint(t, src, "none", func(h http.Header, body []byte) error {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return err
		}
		return wh.Verify(body, h)
	})
	scheme := "standard-webhooks"
	ep, err := e.api.UpdateEndpoint(context.Background(), e.actor, ep.ID, relay.EndpointInput{SigningScheme: &scheme})
	testenv.Must(t, err)
	secrets, err := e.api.RevealSecrets(context.Background(), e.actor, "endpoint", ep.ID, ep.Secrets)
	testenv.Must(t, err)
	if len(secrets) != 1 || !strings.HasPrefix(secrets[0], "whsec_") {
		t.Fatalf("after switching from none: %d secrets", len(secrets))
	}
	s.mu.Lock()
	secret = secrets[0]
	s.mu.Unlock()
	e.deliverOne(t, src, ep, s, stripeEvent("evt_switch", "invoice.paid"))
}
