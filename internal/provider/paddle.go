package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

const paddleHeader = "Paddle-Signature"

// paddle verifies Paddle Billing's Paddle-Signature
// ("ts=<unix>;h1=<hex>[;h1=<hex>]"), an HMAC-SHA256 over "ts:body".
type paddle struct {
	tolerance time.Duration
}

// newPaddle defaults the window to 5 minutes like the other providers;
// Paddle's SDKs use 5 seconds, which clock skew alone can exceed.
func newPaddle(cfg Config) (Verifier, error) {
	return paddle{tolerance: cfg.Tolerance.or()}, nil
}

// Verify implements Verifier.
func (v paddle) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	h := req.Header.Get(paddleHeader)
	if h == "" {
		return Result{}, missing(paddleHeader)
	}
	tsRaw, sigs, ok := parsePaddleHeader(h)
	if !ok {
		return Result{}, malformed(paddleHeader)
	}
	ts, _ := parseUnix(tsRaw)
	matched := false
	for _, s := range secrets {
		if anyEqual(mac(sha256.New, []byte(s), []byte(tsRaw), []byte(":"), req.Body), sigs) {
			matched = true
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
		return Result{}, fmt.Errorf("provider: paddle: body is not a JSON object: %w", ErrMalformed)
	}
	return Result{EventID: f["event_id"], EventType: f["event_type"], Verified: true}, nil
}

// parsePaddleHeader returns the raw ts (signed as sent) and every h1 that
// decodes; several h1 appear while a secret is being rotated.
func parsePaddleHeader(h string) (string, [][]byte, bool) {
	var ts string
	var sigs [][]byte
	for _, pair := range strings.Split(h, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return "", nil, false
		}
		switch k {
		case "ts":
			if _, ok := parseUnix(val); !ok || ts != "" {
				return "", nil, false
			}
			ts = val
		case "h1":
			if sig, err := hex.DecodeString(val); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	return ts, sigs, ts != "" && len(sigs) > 0
}
