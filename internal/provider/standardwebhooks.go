package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"
)

// standardWebhooks verifies the Standard Webhooks scheme, also sent by Svix
// under svix-* header names: HMAC-SHA256 over "id.timestamp.body" keyed
// with the base64 key after "whsec_".
type standardWebhooks struct {
	tolerance time.Duration
}

func newStandardWebhooks(cfg Config) (Verifier, error) {
	return standardWebhooks{tolerance: cfg.Tolerance.or()}, nil
}

// swHeaders picks the webhook-* set, or the svix-* set when the signature
// only comes under that name, so a sender is never judged on a mix.
func swHeaders(h http.Header) (prefix string) {
	if h.Get("Webhook-Signature") == "" && h.Get("Svix-Signature") != "" {
		return "Svix-"
	}
	return "Webhook-"
}

// Verify implements Verifier.
func (v standardWebhooks) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if k, err := swKey(s); err == nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return Result{}, &Rejection{Reason: "no usable secret configured (expected whsec_ followed by base64)"}
	}
	p := swHeaders(req.Header)
	names := [3]string{p + "Signature", p + "Id", p + "Timestamp"}
	vals := [3]string{}
	for i, n := range names {
		if vals[i] = req.Header.Get(n); vals[i] == "" {
			return Result{}, missing(n)
		}
	}
	sigHeader, id, tsRaw := vals[0], vals[1], vals[2]
	sigs, ok := parseSWSignatures(sigHeader)
	if !ok {
		return Result{}, malformed(names[0])
	}
	ts, ok := parseUnix(tsRaw)
	if !ok {
		return Result{}, malformed(names[2])
	}
	matched := false
	for _, k := range keys {
		if anyEqual(mac(sha256.New, k, []byte(id), []byte("."), []byte(tsRaw), []byte("."), req.Body), sigs) {
			matched = true
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	if err := checkWindow(ts, req.Now, v.tolerance); err != nil {
		return Result{}, err
	}
	r := Result{EventID: id, Verified: true}
	if f, ok := jsonFields(req.Body); ok {
		r.EventType = f["type"]
	}
	return r, nil
}

// parseSWSignatures returns every v1 signature in the space-separated
// list. Other versions (v1a is asymmetric) are skipped, not failed, so a
// sender can add them without breaking us; none usable at all is malformed.
func parseSWSignatures(h string) ([][]byte, bool) {
	var sigs [][]byte
	for _, vs := range strings.Fields(h) {
		ver, sig, ok := strings.Cut(vs, ",")
		if !ok || ver != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && len(b) == sha256.Size {
			sigs = append(sigs, b)
		}
	}
	return sigs, len(sigs) > 0
}

// swKey returns the HMAC key of a Standard Webhooks secret: the base64
// after the optional "whsec_" prefix. The error never includes the secret.
func swKey(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(k) == 0 {
		return nil, errors.New("provider: standard-webhooks secret must be whsec_ followed by base64")
	}
	return k, nil
}
