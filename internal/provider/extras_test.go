package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// signed builds a valid request for s with another body (signed with the
// first secret at testNow), lets mutate adjust it, and sets the expectation.
func signed(s suite, name, body string, mutate func(*vector), want Outcome) vector {
	v := vector{Name: name, Config: s.config, Secrets: []string{s.secrets[0]}, Headers: map[string]string{}, URL: s.url, Body: body, Now: testNow}
	s.sign(&v, s.secrets[0], testNow)
	if mutate != nil {
		mutate(&v)
	}
	v.Outcome = want
	return v
}

func res(id, typ string) Outcome {
	return Outcome{Result: &Result{EventID: id, EventType: typ, Verified: true}}
}

func reject(reason string) Outcome { return Outcome{Rejection: reason} }

var malformedBody = Outcome{Malformed: true}

// allVectors holds every case by golden file name; each file's cases run
// under one provider kind.
func allVectors() map[string]struct {
	kind string
	vs   []vector
} {
	type set = struct {
		kind string
		vs   []vector
	}
	st, hm, gh, sh, sl, tw, pd, sw := stripeSuite(), hmacSuite(), githubSuite(), shopifySuite(), slackSuite(), twilioSuite(), paddleSuite(), swSuite()
	longer := st
	longer.config = Config{Tolerance: Duration(10 * time.Minute)}
	return map[string]set{
		"stripe": {Stripe, append(st.vectors(),
			signed(st, "body not JSON", "not json", nil, malformedBody),
			signed(st, "body without id", `{"type":"x"}`, nil, malformedBody),
			signed(st, "no v1 signature", st.body, func(v *vector) { v.Headers["Stripe-Signature"] = "t=" + unix(testNow) + ",v0=abcd" }, reject("malformed Stripe-Signature header")),
			signed(longer, "configured tolerance", st.body, func(v *vector) { v.Now = testNow.Add(8 * time.Minute) }, res("evt_1Nf", "invoice.paid")),
		)},
		"hmac": {HMAC, append(append(hm.vectors(), hmacBase64Suite().vectors()...),
			signed(hm, "missing timestamp header", hm.body, func(v *vector) { delete(v.Headers, "X-Acme-Timestamp") }, reject("missing X-Acme-Timestamp header")),
			signed(hm, "malformed timestamp", hm.body, func(v *vector) { v.Headers["X-Acme-Timestamp"] = "12x" }, reject("malformed X-Acme-Timestamp header")),
			signed(hm, "non-JSON body has no type", "a=b", nil, res("acme-evt-1", "")),
		)},
		"github": {GitHub, append(gh.vectors(),
			signed(gh, "ping answered", `{"zen":"Keep it logically awesome."}`, func(v *vector) { v.Headers["X-GitHub-Event"] = "ping" }, Outcome{Result: &Result{
				EventID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", EventType: "ping", Verified: true,
				Reply: &Reply{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"ok":true}`)},
			}}),
			signed(gh, "sha1 only", gh.body, func(v *vector) {
				delete(v.Headers, "X-Hub-Signature-256")
				v.Headers["X-Hub-Signature"] = "sha1=0000000000000000000000000000000000000000"
			}, reject("missing X-Hub-Signature-256 header (SHA-1 X-Hub-Signature is not accepted)")),
		)},
		"shopify": {Shopify, append(sh.vectors(),
			signed(sh, "webhook id fallback", sh.body, func(v *vector) { delete(v.Headers, "X-Shopify-Event-Id") }, res("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "orders/create")),
		)},
		"slack": {Slack, append(sl.vectors(),
			signed(sl, "url verification", `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`, nil, Outcome{Result: &Result{
				EventType: "url_verification", Verified: true,
				Reply: &Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")},
			}}),
			signed(sl, "interactivity payload", "payload="+url.QueryEscape(`{"type":"block_actions","trigger_id":"13345224609.738474920.8088930838d88f008e0"}`), nil, res("13345224609.738474920.8088930838d88f008e0", "block_actions")),
			signed(sl, "slash command", "command=%2Fweather&text=94070&trigger_id=13345224609.1", nil, res("13345224609.1", "slash_command")),
			signed(sl, "missing timestamp header", sl.body, func(v *vector) { delete(v.Headers, "X-Slack-Request-Timestamp") }, reject("missing X-Slack-Request-Timestamp header")),
			signed(sl, "broken JSON", `{"type":`, nil, malformedBody),
		)},
		"twilio": {Twilio, append(tw.vectors(), twilioExtras(tw)...)},
		"paddle": {Paddle, append(pd.vectors(),
			signed(pd, "two h1 values", pd.body, func(v *vector) {
				v.Headers["Paddle-Signature"] += ";h1=" + hex.EncodeToString(make([]byte, 32))
			}, res("evt_01h8441jx8x1q971q9ksksqh82", "transaction.paid")),
			signed(pd, "body not JSON", "nope", nil, malformedBody),
		)},
		"standard-webhooks": {StandardWebhooks, append(sw.vectors(), swExtras(sw)...)},
		"basic-auth":        {BasicAuth, basicAuthSuite().vectors()},
		"token-header":      {TokenHeader, tokenSuite().vectors()},
		"none": {None, []vector{
			{Name: "anything goes", Secrets: nil, Headers: map[string]string{"X-Id": "1"}, Body: `{"type":"t"}`, Now: testNow, Outcome: Outcome{Result: &Result{EventType: "t"}}},
			{Name: "id header", Config: Config{IDHeader: "X-Id"}, Headers: map[string]string{"X-Id": "1"}, Body: "x", Now: testNow, Outcome: Outcome{Result: &Result{EventID: "1"}}},
		}},
	}
}

func twilioExtras(tw suite) []vector {
	jsonBody := `{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ123"}`
	sum := sha256.Sum256([]byte(jsonBody))
	jsonURL := twilioURL + "&bodySHA256=" + hex.EncodeToString(sum[:])
	signURL := func(u string) func(*vector) {
		return func(v *vector) {
			v.Headers["X-Twilio-Signature"] = twilioSignature(tw.secrets[0], u, nil)
		}
	}
	tok := func(v *vector) { v.Headers["I-Twilio-Idempotency-Token"] = "a1b2c3" }
	return []vector{
		signed(tw, "json body", jsonBody, func(v *vector) { v.URL = jsonURL; signURL(jsonURL)(v) }, res("EZ123", "com.twilio.messaging.message.delivered")),
		signed(tw, "json body tampered", jsonBody+" ", func(v *vector) { v.URL = jsonURL; signURL(jsonURL)(v) }, reject("bodySHA256 does not match body")),
		signed(tw, "signed with default port", tw.body, func(v *vector) {
			form, _ := url.ParseQuery(v.Body)
			v.Headers["X-Twilio-Signature"] = twilioSignature(tw.secrets[0], "https://hooks.example.com:443/in/src_tw?source=twilio", form)
		}, res("SM9a:delivered", "delivered")),
		signed(tw, "idempotency token", tw.body, tok, res("a1b2c3", "delivered")),
		signed(tw, "call status", "CallSid=CA1&CallStatus=completed&SequenceNumber=3", nil, res("CA1:completed:3", "completed")),
		signed(tw, "call webhook without sequence", "CallSid=CA1&CallStatus=ringing", nil, res("", "ringing")),
		signed(tw, "other URL", tw.body, func(v *vector) { v.URL = "https://hooks.example.com/in/other" }, reject(ReasonNoMatch)),
	}
}

func swExtras(sw suite) []vector {
	specNow := time.Unix(1614265330, 0).UTC()
	spec := vector{Name: "spec vector", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, Body: `{"test": 2432232314}`, Now: specNow,
		Headers: map[string]string{"Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "Webhook-Timestamp": "1614265330", "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		Outcome: res("msg_p5jXN8AQM9LWM0D4loKWxJek", "")}
	svix := func(v *vector) {
		for _, k := range []string{"Id", "Timestamp", "Signature"} {
			v.Headers["Svix-"+k] = v.Headers["Webhook-"+k]
			delete(v.Headers, "Webhook-"+k)
		}
	}
	return []vector{
		spec,
		with(spec, "spec vector among others", map[string]string{"Webhook-Signature": "v1a,AAAA v1," + base64.StdEncoding.EncodeToString(make([]byte, 32)) + " v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, res("msg_p5jXN8AQM9LWM0D4loKWxJek", "")),
		with(spec, "missing id", map[string]string{"Webhook-Id": ""}, reject("missing Webhook-Id header")),
		with(spec, "malformed timestamp", map[string]string{"Webhook-Timestamp": "1614265330.5"}, reject("malformed Webhook-Timestamp header")),
		signed(sw, "svix headers", sw.body, svix, res("msg_p5jXN8AQM9LWM0D4loKWxJek", "invoice.created")),
		signed(sw, "secret not base64", sw.body, func(v *vector) { v.Secrets = []string{"whsec_!!"} }, reject("no usable secret configured (expected whsec_ followed by base64)")),
	}
}

func testKind(t *testing.T, file string) {
	set := allVectors()[file]
	checkVectors(t, set.kind, set.vs)
}

func TestStripe(t *testing.T)           { testKind(t, "stripe") }
func TestHMAC(t *testing.T)             { testKind(t, "hmac") }
func TestGitHub(t *testing.T)           { testKind(t, "github") }
func TestShopify(t *testing.T)          { testKind(t, "shopify") }
func TestSlack(t *testing.T)            { testKind(t, "slack") }
func TestTwilio(t *testing.T)           { testKind(t, "twilio") }
func TestPaddle(t *testing.T)           { testKind(t, "paddle") }
func TestStandardWebhooks(t *testing.T) { testKind(t, "standard-webhooks") }
func TestBasicAuth(t *testing.T)        { testKind(t, "basic-auth") }
func TestTokenHeader(t *testing.T)      { testKind(t, "token-header") }
func TestNone(t *testing.T)             { testKind(t, "none") }
