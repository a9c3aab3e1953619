package provider

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

const stripeHeader = "Stripe-Signature"

// stripe verifies Stripe-Signature ("t=…,v1=…[,v1=…]") with stripe-go.
type stripe struct {
	tolerance time.Duration
}

func newStripe(cfg Config) (Verifier, error) {
	return stripe{tolerance: cfg.Tolerance.or()}, nil
}

// Verify checks the signature with stripe-go, then the timestamp against
// the injected clock. stripe-go's own tolerance check reads the wall clock
// and ignores future timestamps, so we ask it for the signature only
// (ValidatePayloadIgnoringTolerance) and apply the window ourselves in
// both directions.
func (v stripe) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	header := req.Header.Get(stripeHeader)
	if header == "" {
		return Result{}, missing(stripeHeader)
	}
	ts, ok := parseStripeHeader(header)
	if !ok {
		return Result{}, malformed(stripeHeader)
	}
	matched := false
	for _, s := range secrets {
		if webhook.ValidatePayloadIgnoringTolerance(req.Body, header, s) == nil {
			matched = true
			break
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	if err := checkWindow(ts, req.Now, v.tolerance); err != nil {
		return Result{}, err
	}
	f, ok := jsonFields(req.Body)
	if !ok {
		return Result{}, fmt.Errorf("provider: stripe: body is not a JSON object: %w", ErrMalformed)
	}
	if f["id"] == "" {
		return Result{}, fmt.Errorf("provider: stripe: body has no event id: %w", ErrMalformed)
	}
	return Result{EventID: f["id"], EventType: f["type"], Verified: true}, nil
}

// parseStripeHeader mirrors stripe-go's parser closely enough to tell a
// malformed header from a wrong signature, which stripe-go reports with
// one error, and to read the timestamp for our window check. It is
// stricter: the timestamp is required and at least one v1 must be hex.
func parseStripeHeader(h string) (time.Time, bool) {
	var ts time.Time
	haveTS, haveSig := false, false
	for _, pair := range strings.Split(h, ",") {
		k, val, ok := strings.Cut(pair, "=")
		if !ok || strings.Contains(val, "=") {
			return time.Time{}, false
		}
		switch k {
		case "t":
			t, ok := parseUnix(val)
			if !ok {
				return time.Time{}, false
			}
			ts, haveTS = t, true
		case "v1":
			if _, err := hex.DecodeString(val); err == nil {
				haveSig = true
			}
		}
	}
	return ts, haveTS && haveSig
}
