package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fuzzScheme signs a body for one provider so the fuzz targets can check,
// whatever the signature header holds, that no panic happens and that a
// signature made with another secret is never accepted.
type fuzzScheme struct {
	kind   string
	cfg    Config
	header string // the header the fuzzer controls
	url    string
	// sign returns valid headers for secret and the encoded MAC inside
	// the signature header.
	sign func(secret string, body []byte) (map[string]string, string)
}

const (
	fuzzA = "whsec_" + "ZnV6ei1zZWNyZXQtYQ==" // "fuzz-secret-a"; base64 so Standard Webhooks can use it too
	fuzzB = "whsec_" + "ZnV6ei1zZWNyZXQtYg=="
)

func (s fuzzScheme) verify(headers map[string]string, body []byte, secret string) error {
	ver, err := New(s.kind, s.cfg)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	_, err = ver.Verify(&Request{Body: body, Header: h, URL: s.url, Now: testNow}, []string{secret})
	return err
}

func isRejection(err error) bool {
	var r *Rejection
	return errors.As(err, &r)
}

func (s fuzzScheme) check(t *testing.T, value string, body []byte) {
	hA, coreA := s.sign(fuzzA, body)
	hB, _ := s.sign(fuzzB, body)
	// Any value in the signature header: accepted under A only if it
	// carries A's MAC.
	h := map[string]string{}
	for k, v := range hB {
		h[k] = v
	}
	h[s.header] = value
	if err := s.verify(h, body, fuzzA); !isRejection(err) &&
		!strings.Contains(strings.ToLower(value), strings.ToLower(coreA)) {
		t.Fatalf("accepted %q without the right MAC (err %v)", value, err)
	}
	if err := s.verify(hB, body, fuzzA); !isRejection(err) {
		t.Fatalf("accepted a signature made with another secret (err %v)", err)
	}
	if err := s.verify(hA, body, fuzzA); isRejection(err) && s.kind != Twilio {
		// Twilio's form parsing differs on odd bodies; the rest must pass.
		t.Fatalf("rejected its own signature: %v", err)
	}
}

func fuzzTarget(f *testing.F, s fuzzScheme, seeds ...string) {
	body := []byte(`{"type":"t","id":"1","event_id":"e","event_type":"x"}`)
	hA, _ := s.sign(fuzzA, body)
	hB, _ := s.sign(fuzzB, body)
	f.Add(hA[s.header], body)
	f.Add(hB[s.header], body)
	f.Add(hA[s.header]+" "+hB[s.header], body)
	f.Add("", []byte{})
	for _, seed := range seeds {
		f.Add(seed, body)
	}
	f.Fuzz(func(t *testing.T, value string, body []byte) { s.check(t, value, body) })
}

func hexMAC(secret, msg string) string { return hex.EncodeToString(hmacOf(sha256.New, secret, msg)) }

func FuzzPaddleSignature(f *testing.F) {
	fuzzTarget(f, fuzzScheme{kind: Paddle, header: "Paddle-Signature", sign: func(secret string, body []byte) (map[string]string, string) {
		core := hexMAC(secret, unix(testNow)+":"+string(body))
		return map[string]string{"Paddle-Signature": "ts=" + unix(testNow) + ";h1=" + core}, core
	}}, "ts=;h1=", "ts=1;ts=2;h1=00", "h1=zz;ts=1741964966", ";;;", "ts=01741964966;h1=")
}

func FuzzStandardWebhooksSignature(f *testing.F) {
	fuzzTarget(f, fuzzScheme{kind: StandardWebhooks, header: "Webhook-Signature", sign: func(secret string, body []byte) (map[string]string, string) {
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		core := base64.StdEncoding.EncodeToString(hmacOf(sha256.New, string(key), "msg_1."+unix(testNow)+"."+string(body)))
		return map[string]string{"Webhook-Id": "msg_1", "Webhook-Timestamp": unix(testNow), "Webhook-Signature": "v1," + core}, core
	}}, "v1,", "v1a,abc v2,def", "v1,,,", ",", "v1 ,abc")
}

func FuzzSlackSignature(f *testing.F) {
	fuzzTarget(f, fuzzScheme{kind: Slack, header: "X-Slack-Signature", sign: func(secret string, body []byte) (map[string]string, string) {
		core := hexMAC(secret, "v0:"+unix(testNow)+":"+string(body))
		return map[string]string{"X-Slack-Request-Timestamp": unix(testNow), "X-Slack-Signature": "v0=" + core}, core
	}}, "v0=", "v0=zz", "v1=00", "v0=0")
}

func FuzzGitHubSignature(f *testing.F) {
	fuzzTarget(f, fuzzScheme{kind: GitHub, header: "X-Hub-Signature-256", sign: func(secret string, body []byte) (map[string]string, string) {
		core := hexMAC(secret, string(body))
		return map[string]string{"X-Hub-Signature-256": "sha256=" + core}, core
	}}, "sha256=", "sha1=00", "sha256==", "=")
}

func FuzzHMACSignature(f *testing.F) {
	s := hmacSuite()
	fuzzTarget(f, fuzzScheme{kind: HMAC, cfg: s.config, header: "X-Acme-Signature", sign: func(secret string, body []byte) (map[string]string, string) {
		core := hexMAC(secret, "v1:"+unix(testNow)+":"+string(body))
		return map[string]string{"X-Acme-Timestamp": unix(testNow), "X-Acme-Signature": "sha256=" + core}, core
	}}, "sha256=", "sha256= ", "sha512=00")
}

func FuzzTwilioSignature(f *testing.F) {
	fuzzTarget(f, fuzzScheme{kind: Twilio, url: twilioURL, header: "X-Twilio-Signature", sign: func(secret string, body []byte) (map[string]string, string) {
		form, _ := url.ParseQuery(string(body))
		core := twilioSignature(secret, twilioURL, form)
		return map[string]string{"X-Twilio-Signature": core}, core
	}}, "====", "AAAA", "c2hvcnQ=")
}
