// Package signing signs outbound deliveries in the format each endpoint
// expects: Standard Webhooks (HMAC or ed25519), Stripe, GitHub, or none.
//
// Which secrets are active during a rotation is decided elsewhere; Sign signs
// with every secret it is given, newest first.
package signing

import (
	"errors"
	"fmt"
)

// Scheme names an outbound signature format, chosen per endpoint.
type Scheme string

// The supported schemes. StandardWebhooks is the default.
const (
	StandardWebhooks Scheme = "standard-webhooks" // default
	Stripe           Scheme = "stripe"
	GitHub           Scheme = "github"
	None             Scheme = "none"
)

// Header names set by Sign, in canonical form so they can index http.Header
// directly without re-canonicalising on every delivery.
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
	HeaderStripeSignature  = "Stripe-Signature"
	HeaderGitHubSignature  = "X-Hub-Signature-256"
)

// Secret prefixes. A Standard Webhooks symmetric secret is "whsec_" followed
// by base64; an asymmetric one is a "whsk_" private key whose "whpk_" public
// key is what the receiving team verifies with.
const (
	SymmetricPrefix  = "whsec_"
	PrivateKeyPrefix = "whsk_"
	PublicKeyPrefix  = "whpk_"
)

// Errors returned by this package; compare with errors.Is.
var (
	// ErrUnknownScheme is wrapped by ParseScheme and Sign for a name not in Schemes.
	ErrUnknownScheme = errors.New("signing: unknown scheme")
	// ErrNoSecret means a signing scheme was given no usable secret.
	ErrNoSecret = errors.New("signing: no secret")
	// ErrBadSecret means a secret could not be decoded; the secret itself is never in the message.
	ErrBadSecret = errors.New("signing: malformed secret")
	// ErrBadMessage means the message lacks what the scheme signs (an id, a timestamp).
	ErrBadMessage = errors.New("signing: invalid message")
)

// schemes is in the order UIs list them: the default first.
var schemes = [...]Scheme{StandardWebhooks, Stripe, GitHub, None}

// Schemes lists every scheme for UIs, the default first. The slice is a fresh
// copy the caller may keep or modify.
func Schemes() []Scheme {
	out := make([]Scheme, len(schemes))
	copy(out, schemes[:])
	return out
}

// ParseScheme validates a scheme name ("" means StandardWebhooks); an unknown
// name gives an error wrapping ErrUnknownScheme that quotes the value.
func ParseScheme(s string) (Scheme, error) {
	if s == "" {
		return StandardWebhooks, nil
	}
	for _, sc := range schemes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of standard-webhooks, stripe, github, none)", ErrUnknownScheme, s)
}

// String returns the scheme name.
func (s Scheme) String() string { return string(s) }
