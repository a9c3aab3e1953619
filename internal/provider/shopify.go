package provider

import (
	"crypto/sha256"
	"encoding/base64"
)

const shopifyHeader = "X-Shopify-Hmac-Sha256"

// shopify verifies X-Shopify-Hmac-Sha256, the base64 HMAC-SHA256 of the body.
type shopify struct{}

// Verify implements Verifier.
func (shopify) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	h := req.Header.Get(shopifyHeader)
	if h == "" {
		return Result{}, missing(shopifyHeader)
	}
	sig, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(sig) != sha256.Size {
		return Result{}, malformed(shopifyHeader)
	}
	matched := false
	for _, s := range secrets {
		if anyEqual(mac(sha256.New, []byte(s), req.Body), [][]byte{sig}) {
			matched = true
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	// X-Shopify-Event-Id is stable across retries of one event; older API
	// versions send only X-Shopify-Webhook-Id, which is stable too.
	id := req.Header.Get("X-Shopify-Event-Id")
	if id == "" {
		id = req.Header.Get("X-Shopify-Webhook-Id")
	}
	return Result{EventID: id, EventType: req.Header.Get("X-Shopify-Topic"), Verified: true}, nil
}
