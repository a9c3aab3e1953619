package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"sort"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
)

// The signers below are written for the tests from the providers' docs
// (or are the providers' own libraries), not shared with the verifiers.

func hmacOf(h func() hash.Hash, key string, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func stripeSuite() suite {
	return suite{
		kind:    Stripe,
		secrets: [2]string{"whsec_test_one", "whsec_test_two"},
		body:    `{"id":"evt_1Nf","object":"event","type":"invoice.paid","api_version":"2020-08-27"}`,
		sign: func(v *vector, secret string, ts time.Time) {
			p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(v.Body), Secret: secret, Timestamp: ts})
			v.Headers["Stripe-Signature"] = p.Header
		},
		header: "Stripe-Signature", badHeader: "t=notanumber,v1=00",
		timed: true,
		want:  Result{EventID: "evt_1Nf", EventType: "invoice.paid", Verified: true},
	}
}

func hmacSuite() suite {
	return suite{
		kind:    HMAC,
		config:  Config{Header: "X-Acme-Signature", Prefix: "sha256=", TimestampHeader: "X-Acme-Timestamp", SignedContent: "v1:{timestamp}:{body}", IDHeader: "X-Acme-Id"},
		secrets: [2]string{"acme-one", "acme-two"},
		body:    `{"type":"order.created","id":"ignored"}`,
		sign: func(v *vector, secret string, ts time.Time) {
			v.Headers["X-Acme-Timestamp"] = unix(ts)
			v.Headers["X-Acme-Id"] = "acme-evt-1"
			v.Headers["X-Acme-Signature"] = "sha256=" + hex.EncodeToString(hmacOf(sha256.New, secret, "v1:"+unix(ts)+":"+v.Body))
		},
		header: "X-Acme-Signature", badHeader: "sha1=abc",
		timed: true,
		want:  Result{EventID: "acme-evt-1", EventType: "order.created", Verified: true},
	}
}

// hmacBase64Suite covers the untimed, base64, SHA-1 flavour with defaults.
func hmacBase64Suite() suite {
	return suite{
		kind:    HMAC,
		config:  Config{Algorithm: "sha1", Encoding: "base64", TypeHeader: "X-Event"},
		secrets: [2]string{"b64-one", "b64-two"},
		body:    "plain text body",
		sign: func(v *vector, secret string, _ time.Time) {
			v.Headers["X-Event"] = "ping.text"
			v.Headers["X-Signature"] = base64.StdEncoding.EncodeToString(hmacOf(sha1.New, secret, v.Body))
		},
		header: "X-Signature", badHeader: "%%%",
		want: Result{EventType: "ping.text", Verified: true},
	}
}

func githubSuite() suite {
	return suite{
		kind:    GitHub,
		secrets: [2]string{"gh-one", "gh-two"},
		body:    `{"action":"opened","number":1}`,
		sign: func(v *vector, secret string, _ time.Time) {
			v.Headers["X-GitHub-Delivery"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
			v.Headers["X-GitHub-Event"] = "pull_request"
			v.Headers["X-Hub-Signature-256"] = "sha256=" + hex.EncodeToString(hmacOf(sha256.New, secret, v.Body))
		},
		header: "X-Hub-Signature-256", badHeader: "sha1=0123",
		want: Result{EventID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", EventType: "pull_request", Verified: true},
	}
}

func shopifySuite() suite {
	return suite{
		kind:    Shopify,
		secrets: [2]string{"shpss_one", "shpss_two"},
		body:    `{"id":820982911946154508,"email":"jon@example.com"}`,
		sign: func(v *vector, secret string, _ time.Time) {
			v.Headers["X-Shopify-Topic"] = "orders/create"
			v.Headers["X-Shopify-Event-Id"] = "98880550-7158-44d4-b7cd-2c97c8a091b5"
			v.Headers["X-Shopify-Webhook-Id"] = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
			v.Headers["X-Shopify-Hmac-Sha256"] = base64.StdEncoding.EncodeToString(hmacOf(sha256.New, secret, v.Body))
		},
		header: "X-Shopify-Hmac-Sha256", badHeader: "not base64!",
		want: Result{EventID: "98880550-7158-44d4-b7cd-2c97c8a091b5", EventType: "orders/create", Verified: true},
	}
}

func slackSign(v *vector, secret string, ts time.Time) {
	v.Headers["X-Slack-Request-Timestamp"] = unix(ts)
	v.Headers["X-Slack-Signature"] = "v0=" + hex.EncodeToString(hmacOf(sha256.New, secret, "v0:"+unix(ts)+":"+v.Body))
}

func slackSuite() suite {
	return suite{
		kind:    Slack,
		secrets: [2]string{"8f742231b10e8888abcd99yyyzzz85a5", "second-slack-signing-secret"},
		body:    `{"token":"x","team_id":"T1","type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}`,
		sign:    slackSign,
		header:  "X-Slack-Signature", badHeader: "v1=abcdef",
		timed: true,
		want:  Result{EventID: "Ev08MFMKH6", EventType: "app_mention", Verified: true},
	}
}

const twilioURL = "https://hooks.example.com/in/src_tw?source=twilio"

// twilioSignature follows Twilio's documented algorithm: the URL, then
// each POST parameter name and value in name order, HMAC-SHA1, base64.
func twilioSignature(token, rawURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := rawURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	return base64.StdEncoding.EncodeToString(hmacOf(sha1.New, token, s))
}

func twilioSuite() suite {
	return suite{
		kind:    Twilio,
		secrets: [2]string{"12345678901234567890123456789012", "abcdefabcdefabcdefabcdefabcdef12"},
		url:     twilioURL,
		body:    "AccountSid=AC123&MessageSid=SM9a&MessageStatus=delivered&To=%2B15551234567&From=%2B15557654321",
		sign: func(v *vector, secret string, _ time.Time) {
			form, _ := url.ParseQuery(v.Body)
			v.Headers["X-Twilio-Signature"] = twilioSignature(secret, v.URL, form)
		},
		header: "X-Twilio-Signature", badHeader: "c2hvcnQ=",
		want: Result{EventID: "SM9a:delivered", EventType: "delivered", Verified: true},
	}
}

func paddleSuite() suite {
	return suite{
		kind:    Paddle,
		secrets: [2]string{"pdl_ntfset_one", "pdl_ntfset_two"},
		body:    `{"event_id":"evt_01h8441jx8x1q971q9ksksqh82","event_type":"transaction.paid","data":{}}`,
		sign: func(v *vector, secret string, ts time.Time) {
			v.Headers["Paddle-Signature"] = "ts=" + unix(ts) + ";h1=" + hex.EncodeToString(hmacOf(sha256.New, secret, unix(ts)+":"+v.Body))
		},
		header: "Paddle-Signature", badHeader: "h1=abcd",
		timed: true,
		want:  Result{EventID: "evt_01h8441jx8x1q971q9ksksqh82", EventType: "transaction.paid", Verified: true},
	}
}

func swSign(v *vector, secret string, ts time.Time) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		panic(err)
	}
	sig, _ := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(v.Body))
	v.Headers["Webhook-Id"] = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	v.Headers["Webhook-Timestamp"] = unix(ts)
	v.Headers["Webhook-Signature"] = sig
}

func swSuite() suite {
	return suite{
		kind:    StandardWebhooks,
		secrets: [2]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + base64.StdEncoding.EncodeToString([]byte("second standard key"))},
		body:    `{"type":"invoice.created","data":{"id":1}}`,
		sign:    swSign,
		header:  "Webhook-Signature", badHeader: "v2,abc",
		timed: true,
		want:  Result{EventID: "msg_p5jXN8AQM9LWM0D4loKWxJek", EventType: "invoice.created", Verified: true},
	}
}

func basicAuthSuite() suite {
	return suite{
		kind:    BasicAuth,
		config:  Config{Username: "hookrelay"},
		secrets: [2]string{"pw-one", "pw-two"},
		body:    `{"type":"thing.happened"}`,
		sign: func(v *vector, secret string, _ time.Time) {
			v.Headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("hookrelay:"+secret))
		},
		header: "Authorization", badHeader: "Bearer abc",
		want:    Result{EventType: "thing.happened", Verified: true},
		noMatch: ReasonNoMatchAuth, bodyUnsigned: true,
	}
}

func tokenSuite() suite {
	return suite{
		kind:    TokenHeader,
		config:  Config{Header: "X-Webhook-Token", Prefix: "Bearer ", IDHeader: "X-Request-Id"},
		secrets: [2]string{"tok-one", "tok-two"},
		body:    "x",
		sign: func(v *vector, secret string, _ time.Time) {
			v.Headers["X-Request-Id"] = "req-1"
			v.Headers["X-Webhook-Token"] = "Bearer " + secret
		},
		header: "X-Webhook-Token", badHeader: "Token abc",
		want:    Result{EventID: "req-1", Verified: true},
		noMatch: ReasonNoMatchToken, bodyUnsigned: true,
	}
}
