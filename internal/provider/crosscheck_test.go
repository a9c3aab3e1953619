package provider

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	gogithub "github.com/google/go-github/v66/github"
	slackgo "github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"
	svix "github.com/svix/svix-webhooks/go"
	twilioclient "github.com/twilio/twilio-go/client"
)

// The providers' own libraries are the reference: on every vector, ours
// must accept exactly when theirs does, except where a difference is
// deliberate and named.

// accepted is whether our verifier let the request through (a body that
// verifies but does not parse still passed the signature).
func accepted(t *testing.T, kind string, v vector) bool {
	return run(t, kind, v).Rejection == ""
}

// agree runs lib (true = the library accepts) against ours on each vector.
func agree(t *testing.T, kind string, vs []vector, lib func(v vector, secret string) bool) {
	t.Helper()
	for _, v := range vs {
		libOK := false
		for _, s := range v.Secrets {
			if s != "" && lib(v, s) {
				libOK = true
			}
		}
		if ours := accepted(t, kind, v); ours != libOK {
			t.Errorf("%s/%s: ours accepted=%v, library accepted=%v", kind, v.Name, ours, libOK)
		}
	}
}

// without drops the named vectors, and always "edge of window": the
// libraries read the wall clock a moment after the vector was signed
// exactly at the edge, so they would reject it by a hair.
func without(vs []vector, names ...string) []vector {
	var out []vector
	for _, v := range vs {
		if v.Name != "edge of window" && !slices.Contains(names, v.Name) {
			out = append(out, v)
		}
	}
	return out
}

func TestStripeAgreesWithStripeGo(t *testing.T) {
	s := stripeSuite()
	now := time.Now()
	vs := s.vectorsAt(now)
	// stripe-go does not check future timestamps; we do, on purpose.
	agree(t, Stripe, without(vs, "future timestamp"), func(v vector, secret string) bool {
		return webhook.ValidatePayloadWithTolerance([]byte(v.Body), v.Headers["Stripe-Signature"], secret, DefaultTolerance) == nil
	})
	// A payload stripe-go signs is one we accept.
	for _, secret := range []string{"whsec_a", "whsec_" + wrongSecret} {
		p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(s.body), Secret: secret, Timestamp: now})
		req := &Request{Body: p.Payload, Header: http.Header{"Stripe-Signature": {p.Header}}, Now: now}
		ver, _ := New(Stripe, Config{})
		if _, err := ver.Verify(req, []string{"whsec_other", secret}); err != nil {
			t.Errorf("stripe-go signed payload rejected: %v", err)
		}
	}
}

func TestStandardWebhooksAgreesWithLibraries(t *testing.T) {
	s := swSuite()
	vs := without(s.vectorsAt(time.Now()))
	svixHeaders := with(vs[0], "svix headers", map[string]string{"Webhook-Id": "", "Webhook-Timestamp": "", "Webhook-Signature": "",
		"Svix-Id": vs[0].Headers["Webhook-Id"], "Svix-Timestamp": vs[0].Headers["Webhook-Timestamp"], "Svix-Signature": vs[0].Headers["Webhook-Signature"]}, Outcome{})
	vs = append(vs, svixHeaders)
	agree(t, StandardWebhooks, vs, func(v vector, secret string) bool {
		svixWH, err := svix.NewWebhook(secret)
		if err != nil {
			return false
		}
		return svixWH.Verify([]byte(v.Body), v.request().Header) == nil
	})
	// The Standard Webhooks library reads only webhook-* headers.
	agree(t, StandardWebhooks, vs[:len(vs)-1], func(v vector, secret string) bool {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return false
		}
		return wh.Verify([]byte(v.Body), v.request().Header) == nil
	})
	// Both libraries' signatures verify with ours.
	now := time.Now()
	secret := s.secrets[1]
	swWH, _ := standardwebhooks.NewWebhook(secret)
	svixWH, _ := svix.NewWebhook(secret)
	for name, sign := range map[string]func(string, time.Time, []byte) (string, error){"standardwebhooks": swWH.Sign, "svix": svixWH.Sign} {
		sig, err := sign("msg_x", now, []byte(s.body))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Webhook-Id": {"msg_x"}, "Webhook-Timestamp": {unix(now)}, "Webhook-Signature": {sig}}
		ver, _ := New(StandardWebhooks, Config{})
		if _, err := ver.Verify(&Request{Body: []byte(s.body), Header: h, Now: now}, []string{secret}); err != nil {
			t.Errorf("%s signature rejected: %v", name, err)
		}
	}
}

func TestSlackAgreesWithSlackGo(t *testing.T) {
	s := slackSuite()
	vs := without(s.vectorsAt(time.Now()))
	agree(t, Slack, vs, func(v vector, secret string) bool {
		sv, err := slackgo.NewSecretsVerifier(v.request().Header, secret)
		if err != nil {
			return false
		}
		sv.Write([]byte(v.Body))
		return sv.Ensure() == nil
	})
}

func TestTwilioAgreesWithTwilioGo(t *testing.T) {
	s := twilioSuite()
	vs := append(s.vectors(), twilioExtras(s)...)
	agree(t, Twilio, vs, func(v vector, secret string) bool {
		rv := twilioclient.NewRequestValidator(secret)
		return rv.ValidateBody(v.URL, []byte(v.Body), v.Headers["X-Twilio-Signature"])
	})
	// Validate with explicit params agrees too, on the form vectors.
	agree(t, Twilio, s.vectors(), func(v vector, secret string) bool {
		form, _ := url.ParseQuery(v.Body)
		params := map[string]string{}
		for k := range form {
			params[k] = form.Get(k)
		}
		rv := twilioclient.NewRequestValidator(secret)
		return rv.Validate(v.URL, params, v.Headers["X-Twilio-Signature"])
	})
}

func TestGitHubAgreesWithGoGitHub(t *testing.T) {
	all := allVectors()["github"].vs
	agree(t, GitHub, all, func(v vector, secret string) bool {
		sig := v.Headers["X-Hub-Signature-256"]
		if sig == "" {
			// Deliberate difference: go-github would fall back to the
			// SHA-1 header; we require SHA-256.
			return false
		}
		return gogithub.ValidateSignature(sig, []byte(v.Body), []byte(secret)) == nil
	})
}
