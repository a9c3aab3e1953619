package e2e_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
	svix "github.com/svix/svix-webhooks/go"
	twilio "github.com/twilio/twilio-go/client"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// publicURL is the harness's api.Deps.PublicURL: Twilio signs the URL it
// was given, which is the public one, not the loopback address we dial.
const publicURL = "http://test.invalid"

// inbound is one request as a provider would send it.
type inbound struct {
	query   string // appended to /in/<token>, with its "?"
	body    []byte
	headers map[string]string
}

// providerCase is one provider wired through the real ingest endpoint:
// a genuine request must be stored with the provider's id and type and
// forwarded; a forged one must be refused with the reason.
type providerCase struct {
	name     string
	kind     string
	config   string // source config JSON, "" for none
	secret   string
	good     func(t *testing.T, ingestURL string) inbound // ingestURL is the public one
	bad      func(t *testing.T, ingestURL string) inbound
	reason   string // in the 401 and the rejected_requests row
	id, typ  string // provider event id and type the event is stored with
	verified bool
}

func hmacHex(h func() hash.Hash, key string, parts ...string) string {
	return hex.EncodeToString(macOf(h, key, parts...))
}

func hmacB64(h func() hash.Hash, key string, parts ...string) string {
	return base64.StdEncoding.EncodeToString(macOf(h, key, parts...))
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// providerCases lists every kind, with extra cases for the variants a
// provider sends (Svix headers, Slack forms, Twilio JSON).
func providerCases() []providerCase {
	const (
		ghSecret     = "gh-hook-secret-0123456789"
		shopSecret   = "shpss_0123456789abcdef0123456789abcdef"
		slackSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
		twilioToken  = "12345678901234567890123456789012"
		paddleSecret = "pdl_ntfset_01hv8x2ac3w4y5z6_0123456789abcdef"
		swSecret     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		swOther      = "whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IG9uZQ=="
		hmacSecret   = "generic-hmac-secret"
		basicPass    = "correct horse battery staple"
		tokenSecret  = "tok_0123456789abcdef"
	)
	stripeBody := stripeEvent("evt_1PrvStripe", "invoice.paid")
	ghBody := []byte(`{"action":"opened","issue":{"number":7},"repository":{"full_name":"octo/hello"}}`)
	ghReq := func(secret, event string) func(*testing.T, string) inbound {
		return func(t *testing.T, _ string) inbound {
			sig := "sha256=" + hmacHex(sha256.New, secret, string(ghBody))
			if err := githubValidate(sig, ghBody, ghSecret); err != nil && secret == ghSecret {
				t.Fatalf("go-github rejects the test's own signature: %v", err)
			}
			return inbound{body: ghBody, headers: map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Event": event,
				"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "Content-Type": "application/json"}}
		}
	}
	shopBody := []byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00"}`)
	slackBody := []byte(`{"token":"x","team_id":"T1","type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}`)
	slackForm := []byte("payload=" + url.QueryEscape(`{"type":"block_actions","trigger_id":"13345224609.738474920.8088930838d88f008e0","actions":[]}`))
	slackReq := func(secret string, ts time.Time, body []byte) func(*testing.T, string) inbound {
		return func(t *testing.T, _ string) inbound {
			h := map[string]string{"X-Slack-Request-Timestamp": unix(ts),
				"X-Slack-Signature": "v0=" + hmacHex(sha256.New, secret, "v0:"+unix(ts)+":", string(body))}
			if secret == slackSecret && time.Since(ts) < time.Minute {
				slackValidate(t, h, body, slackSecret)
			}
			ct := "application/json"
			if body[0] != '{' {
				ct = "application/x-www-form-urlencoded"
			}
			h["Content-Type"] = ct
			return inbound{body: body, headers: h}
		}
	}
	twilioForm := []byte("AccountSid=AC0123&ApiVersion=2010-04-01&From=%2B15005550006&MessageSid=SM0123abc&MessageStatus=delivered&To=%2B15005550009")
	twilioReq := func(token string, signedURL func(ingestURL string) string) func(*testing.T, string) inbound {
		return func(t *testing.T, ingestURL string) inbound {
			form, _ := url.ParseQuery(string(twilioForm))
			u := signedURL(ingestURL)
			var b strings.Builder
			b.WriteString(u)
			params := map[string]string{}
			for _, k := range slices.Sorted(maps.Keys(form)) {
				b.WriteString(k + form.Get(k))
				params[k] = form.Get(k)
			}
			sig := hmacB64(sha1.New, token, b.String())
			if token == twilioToken && u == ingestURL {
				if v := twilio.NewRequestValidator(twilioToken); !v.Validate(u, params, sig) {
					t.Fatal("twilio-go rejects the test's own signature")
				}
			}
			return inbound{body: twilioForm, headers: map[string]string{"X-Twilio-Signature": sig,
				"Content-Type": "application/x-www-form-urlencoded"}}
		}
	}
	twilioJSON := []byte(`{"id":"EZ0123","type":"com.twilio.messaging.message.delivered","data":{"messageSid":"SM1"}}`)
	twilioJSONReq := func(t *testing.T, ingestURL string) inbound {
		sum := sha256.Sum256(twilioJSON)
		q := "?bodySHA256=" + hex.EncodeToString(sum[:])
		sig := hmacB64(sha1.New, twilioToken, ingestURL+q)
		if v := twilio.NewRequestValidator(twilioToken); !v.ValidateBody(ingestURL+q, twilioJSON, sig) {
			t.Fatal("twilio-go rejects the test's own JSON signature")
		}
		return inbound{query: q, body: twilioJSON, headers: map[string]string{"X-Twilio-Signature": sig, "Content-Type": "application/json"}}
	}
	paddleBody := []byte(`{"event_id":"evt_01hv8x2acma5bg8j8yrrsrx6nz","event_type":"transaction.completed","occurred_at":"2024-04-12T10:18:49.621022Z","data":{"id":"txn_1"}}`)
	paddleReq := func(ts time.Time) func(*testing.T, string) inbound {
		return func(*testing.T, string) inbound {
			return inbound{body: paddleBody, headers: map[string]string{"Content-Type": "application/json",
				"Paddle-Signature": "ts=" + unix(ts) + ";h1=" + hmacHex(sha256.New, paddleSecret, unix(ts)+":", string(paddleBody))}}
		}
	}
	swBody := []byte(`{"type":"user.created","data":{"id":"u_1"}}`)
	swReq := func(secret, id string, useSvix bool) func(*testing.T, string) inbound {
		return func(t *testing.T, _ string) inbound {
			now := time.Now()
			var sig string
			var err error
			prefix := "Webhook-"
			if useSvix {
				wh, werr := svix.NewWebhook(secret)
				testenv.Must(t, werr)
				sig, err = wh.Sign(id, now, swBody)
				prefix = "Svix-"
			} else {
				wh, werr := standardwebhooks.NewWebhook(secret)
				testenv.Must(t, werr)
				sig, err = wh.Sign(id, now, swBody)
			}
			testenv.Must(t, err)
			return inbound{body: swBody, headers: map[string]string{prefix + "Id": id, prefix + "Timestamp": unix(now),
				prefix + "Signature": sig, "Content-Type": "application/json"}}
		}
	}
	hmacBody := []byte(`{"kind":"build.finished","build":42}`)
	hmacReq := func(secret string, withTS bool) func(*testing.T, string) inbound {
		return func(*testing.T, string) inbound {
			ts := unix(time.Now())
			h := map[string]string{"X-Signature-256": "sha256=" + hmacHex(sha256.New, secret, ts+".", string(hmacBody)),
				"X-Event-Id": "bld_42", "X-Event-Type": "build.finished", "Content-Type": "application/json"}
			if withTS {
				h["X-Timestamp"] = ts
			}
			return inbound{body: hmacBody, headers: h}
		}
	}
	plainBody := []byte(`{"type":"order.shipped","order":"o_1"}`)
	basicReq := func(pass string) func(*testing.T, string) inbound {
		return func(*testing.T, string) inbound {
			return inbound{body: plainBody, headers: map[string]string{"Content-Type": "application/json", "X-Request-Id": "req_basic_1",
				"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("hooks:"+pass))}}
		}
	}
	tokenReq := func(tok string) func(*testing.T, string) inbound {
		return func(*testing.T, string) inbound {
			return inbound{body: plainBody, headers: map[string]string{"Content-Type": "application/json",
				"Authorization": "Bearer " + tok, "X-Delivery-Id": "dlv_tok_1", "X-Event-Type": "order.shipped"}}
		}
	}
	noneReq := func(*testing.T, string) inbound {
		return inbound{body: plainBody, headers: map[string]string{"Content-Type": "application/json", "X-Delivery-Id": "dlv_none_1"}}
	}

	return []providerCase{
		{name: "stripe", kind: "stripe", secret: stripeSecret,
			good: func(*testing.T, string) inbound {
				sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: stripeBody, Secret: stripeSecret, Timestamp: time.Now()})
				return inbound{body: stripeBody, headers: map[string]string{"Stripe-Signature": sp.Header, "Content-Type": "application/json"}}
			},
			bad: func(*testing.T, string) inbound {
				sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: stripeBody, Secret: "whsec_wrong", Timestamp: time.Now()})
				return inbound{body: stripeBody, headers: map[string]string{"Stripe-Signature": sp.Header}}
			},
			reason: "no matching signature", id: "evt_1PrvStripe", typ: "invoice.paid", verified: true},
		{name: "github", kind: "github", secret: ghSecret, good: ghReq(ghSecret, "issues"), bad: ghReq("not-the-secret", "issues"),
			reason: "no matching signature", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", typ: "issues", verified: true},
		{name: "shopify", kind: "shopify", secret: shopSecret,
			good: func(*testing.T, string) inbound {
				return inbound{body: shopBody, headers: map[string]string{"X-Shopify-Hmac-Sha256": hmacB64(sha256.New, shopSecret, string(shopBody)),
					"X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
					"X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "Content-Type": "application/json"}}
			},
			bad: func(*testing.T, string) inbound {
				return inbound{body: shopBody, headers: map[string]string{"X-Shopify-Topic": "orders/create"}}
			},
			reason: "missing X-Shopify-Hmac-Sha256 header", id: "98880550-7158-44d4-b7cd-2c97c8a091b5", typ: "orders/create", verified: true},
		{name: "slack", kind: "slack", secret: slackSecret, good: slackReq(slackSecret, time.Now(), slackBody),
			bad:    slackReq(slackSecret, time.Now().Add(-10*time.Minute), slackBody),
			reason: "timestamp too old", id: "Ev08MFMKH6", typ: "app_mention", verified: true},
		{name: "slack interactivity form", kind: "slack", secret: slackSecret, good: slackReq(slackSecret, time.Now(), slackForm),
			bad:    slackReq("wrong-signing-secret", time.Now(), slackForm),
			reason: "no matching signature", id: "13345224609.738474920.8088930838d88f008e0", typ: "block_actions", verified: true},
		{name: "twilio", kind: "twilio", secret: twilioToken, good: twilioReq(twilioToken, func(u string) string { return u }),
			// The classic misconfiguration: signing the address the relay
			// listens on instead of the public URL given to Twilio.
			bad:    twilioReq(twilioToken, func(u string) string { return strings.Replace(u, publicURL, "http://127.0.0.1:8080", 1) }),
			reason: "no matching signature", id: "SM0123abc:delivered", typ: "delivered", verified: true},
		{name: "twilio json", kind: "twilio", secret: twilioToken, good: twilioJSONReq,
			bad: func(t *testing.T, u string) inbound {
				in := twilioJSONReq(t, u)
				in.body = bytes.Replace(in.body, []byte("SM1"), []byte("SM2"), 1) // signature still matches the URL
				return in
			},
			reason: "bodySHA256 does not match body", id: "EZ0123", typ: "com.twilio.messaging.message.delivered", verified: true},
		{name: "paddle", kind: "paddle", secret: paddleSecret, good: paddleReq(time.Now()), bad: paddleReq(time.Now().Add(10 * time.Minute)),
			reason: "timestamp too far in the future", id: "evt_01hv8x2acma5bg8j8yrrsrx6nz", typ: "transaction.completed", verified: true},
		{name: "standard-webhooks", kind: "standard-webhooks", secret: swSecret, good: swReq(swSecret, "msg_2Kx1sw", false),
			bad: swReq(swOther, "msg_2Kx1sw", false), reason: "no matching signature", id: "msg_2Kx1sw", typ: "user.created", verified: true},
		{name: "standard-webhooks svix headers", kind: "standard-webhooks", secret: swSecret, good: swReq(swSecret, "msg_2Kx1svix", true),
			bad: swReq(swOther, "msg_2Kx1svix", true), reason: "no matching signature", id: "msg_2Kx1svix", typ: "user.created", verified: true},
		{name: "hmac", kind: "hmac", secret: hmacSecret,
			config: `{"header":"X-Signature-256","prefix":"sha256=","timestamp_header":"X-Timestamp","signed_content":"{timestamp}.{body}",` +
				`"id_header":"X-Event-Id","type_header":"X-Event-Type"}`,
			good: hmacReq(hmacSecret, true), bad: hmacReq(hmacSecret, false),
			reason: "missing X-Timestamp header", id: "bld_42", typ: "build.finished", verified: true},
		{name: "basic-auth", kind: "basic-auth", secret: basicPass, config: `{"username":"hooks","id_header":"X-Request-Id"}`,
			good: basicReq(basicPass), bad: basicReq("Tr0ub4dor&3"),
			reason: "no matching credentials", id: "req_basic_1", typ: "order.shipped", verified: true},
		{name: "token-header", kind: "token-header", secret: tokenSecret,
			config: `{"header":"Authorization","prefix":"Bearer ","id_header":"X-Delivery-Id","type_header":"X-Event-Type"}`,
			good:   tokenReq(tokenSecret), bad: tokenReq("tok_guessed"),
			reason: "no matching token", id: "dlv_tok_1", typ: "order.shipped", verified: true},
		{name: "none", kind: "none", config: `{"id_header":"X-Delivery-Id"}`, good: noneReq,
			id: "dlv_none_1", typ: "order.shipped", verified: false},
	}
}

// Every provider kind, through /in/{token} over HTTP: a genuine request is
// stored with the provider's event id, type and verified flag, forwarded
// byte for byte, and absorbed when the provider retries it; a forged one
// is refused with its reason and recorded.
func TestProvidersEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	st := store.New(e.db)
	ctx := context.Background()
	for _, c := range providerCases() {
		t.Run(c.name, func(t *testing.T) {
			src := e.source(t, c.kind, c.config, c.secret)
			s := &sink{}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ep, epSecret := e.endpoint(srv.URL, src)
			wh, err := standardwebhooks.NewWebhook(epSecret)
			testenv.Must(t, err)
			s.check = func(h http.Header, body []byte) error { return wh.Verify(body, h) }
			ingest := publicURL + "/in/" + src.IngestToken

			in := c.good(t, ingest)
			status, body, _ := e.postRaw("/in/"+src.IngestToken+in.query, in.body, in.headers)
			var resp map[string]any
			_ = json.Unmarshal(body, &resp)
			if status != 200 || resp["duplicate"] != false {
				t.Fatalf("ingest: %d %s", status, body)
			}
			evID := resp["id"].(string)
			ev, err := st.GetEvent(ctx, e.team, evID)
			testenv.Must(t, err)
			if got := deref(ev.ProviderEventID); got != c.id || ev.EventType != c.typ || ev.Verified != c.verified {
				t.Fatalf("event: id %q type %q verified %v, want %q %q %v", got, ev.EventType, ev.Verified, c.id, c.typ, c.verified)
			}
			if !bytes.Equal(ev.Body, in.body) {
				t.Fatalf("stored body differs: %q", ev.Body)
			}
			e.waitDelivery(evID, ep.ID, store.StatusSucceeded)
			s.mu.Lock()
			if len(s.errs) > 0 || len(s.bodies) != 1 || !bytes.Equal(s.bodies[0], in.body) ||
				s.headers[0].Get("X-Hookrelay-Event-Type") != c.typ {
				t.Errorf("forwarded: errs %v, bodies %q, type %q", s.errs, s.bodies, s.headers[0].Get("X-Hookrelay-Event-Type"))
			}
			s.mu.Unlock()

			// The provider's retry of the same event changes nothing.
			status, body, _ = e.postRaw("/in/"+src.IngestToken+in.query, in.body, in.headers)
			_ = json.Unmarshal(body, &resp)
			if status != 200 || resp["id"] != evID || resp["duplicate"] != true {
				t.Fatalf("retry: %d %s, want duplicate of %s", status, body, evID)
			}

			if c.bad == nil {
				return
			}
			in = c.bad(t, ingest)
			status, body, _ = e.postRaw("/in/"+src.IngestToken+in.query, in.body, in.headers)
			var er struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal(body, &er)
			if status != 401 || er.Error.Code != "signature_invalid" || !strings.Contains(er.Error.Message, c.reason) {
				t.Fatalf("forged: %d %s, want 401 with %q", status, body, c.reason)
			}
			rs, err := st.ListRejected(ctx, e.team, src.ID, 10)
			testenv.Must(t, err)
			if len(rs) != 1 || !strings.Contains(rs[0].Reason, c.reason) {
				t.Fatalf("rejected rows: %+v, want one with %q", rs, c.reason)
			}
			if c.secret != "" && strings.Contains(rs[0].Reason+fmt.Sprint(rs[0].Headers), c.secret) {
				t.Fatal("secret recorded with the rejection")
			}
			if n := e.eventsOf(src.ID); n != 1 {
				t.Fatalf("source has %d events after the forged request, want 1", n)
			}
		})
	}
}

// GitHub's ping and Slack's url_verification are answered directly: the
// provider gets what it checks for, and no event is stored or forwarded.
func TestProviderHandshakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	const ghSecret, slackSecret = "gh-ping-secret-0123", "slack-signing-secret"

	gh := e.source(t, "github", "", ghSecret)
	ping := []byte(`{"zen":"Design for failure.","hook_id":123,"hook":{"type":"Repository","events":["push"]}}`)
	status, body, _ := e.postRaw("/in/"+gh.IngestToken, ping, map[string]string{
		"X-Hub-Signature-256": "sha256=" + hmacHex(sha256.New, ghSecret, string(ping)),
		"X-GitHub-Event":      "ping", "X-GitHub-Delivery": "d-ping-1", "Content-Type": "application/json"})
	if status != 200 || string(body) != `{"ok":true}` {
		t.Fatalf("github ping: %d %s", status, body)
	}
	// An unsigned ping is still refused: the reply must not be an oracle.
	status, _, _ = e.postRaw("/in/"+gh.IngestToken, ping, map[string]string{"X-GitHub-Event": "ping"})
	if status != 401 {
		t.Fatalf("unsigned github ping: %d, want 401", status)
	}

	sl := e.source(t, "slack", "", slackSecret)
	challenge := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	ts := unix(time.Now())
	h := map[string]string{"X-Slack-Request-Timestamp": ts,
		"X-Slack-Signature": "v0=" + hmacHex(sha256.New, slackSecret, "v0:"+ts+":", string(challenge)), "Content-Type": "application/json"}
	slackValidate(t, h, challenge, slackSecret)
	status, body, hdr := e.postRaw("/in/"+sl.IngestToken, challenge, h)
	if status != 200 || string(body) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("slack url_verification: %d %q %q", status, body, hdr.Get("Content-Type"))
	}
	if n := e.count("events"); n != 0 {
		t.Fatalf("%d events stored by handshakes", n)
	}
}

// source creates a source of kind with a JSON config and a secret.
func (e *env) source(t *testing.T, kind, config, secret string) *store.Source {
	t.Helper()
	name := kind + " " + t.Name()
	in := relay.SourceInput{Name: &name, Provider: &kind}
	if config != "" {
		raw := json.RawMessage(config)
		in.Config = &raw
	}
	if secret != "" {
		in.Secret = &secret
	}
	src, err := e.api.CreateSource(context.Background(), e.actor, in)
	testenv.Must(t, err)
	return src
}

// postRaw posts to the API and returns the raw answer.
func (e *env) postRaw(path string, body []byte, headers map[string]string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.baseURL+path, bytes.NewReader(body))
	testenv.Must(e.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	testenv.Must(e.t, err)
	return resp.StatusCode, raw, resp.Header
}

func (e *env) eventsOf(sourceID string) int {
	e.t.Helper()
	n, err := e.db.NewSelect().Table("events").Where("source_id = ?", sourceID).Count(context.Background())
	testenv.Must(e.t, err)
	return int(n)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// githubValidate checks a signature the way go-github does.
func githubValidate(sig string, body []byte, secret string) error {
	return github.ValidateSignature(sig, body, []byte(secret))
}

// slackValidate checks headers and body with slack-go's SecretsVerifier,
// so the test signs exactly as Slack does.
func slackValidate(t *testing.T, h map[string]string, body []byte, secret string) {
	t.Helper()
	hdr := http.Header{}
	for k, v := range h {
		hdr.Set(k, v)
	}
	sv, err := slack.NewSecretsVerifier(hdr, secret)
	testenv.Must(t, err)
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Fatalf("slack-go rejects the test's own signature: %v", err)
	}
}

func macOf(h func() hash.Hash, key string, parts ...string) []byte {
	m := hmac.New(h, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}
