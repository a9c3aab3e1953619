// Package provider verifies inbound webhooks: one file per provider, each
// turning a raw request and the source's active secrets into a Result or a
// precise Rejection.
package provider

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Provider kinds accepted by New.
const (
	Stripe           = "stripe"
	GitHub           = "github"
	Shopify          = "shopify"
	Slack            = "slack"
	Twilio           = "twilio"
	Paddle           = "paddle"
	StandardWebhooks = "standard-webhooks"
	HMAC             = "hmac"
	BasicAuth        = "basic-auth"
	TokenHeader      = "token-header"
	None             = "none"
)

// Request is one inbound webhook as received.
type Request struct {
	Body   []byte      // raw bytes exactly as received (never decompressed)
	Header http.Header // canonical header keys
	URL    string      // full public URL the provider posted to, incl. query (Twilio signs it)
	Now    time.Time   // injected clock
}

// Result is what a verified request yields.
type Result struct {
	EventID   string // provider's event id used for dedup; "" when the provider has none
	EventType string // "" when unknown
	Verified  bool   // false only for the "none" provider
	Reply     *Reply // non-nil: answer the provider with this and do NOT store/forward
}

// Reply is a direct answer to the provider (Slack url_verification, GitHub ping).
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Rejection is a signature/auth failure: the caller answers 401 with Reason
// and records it. Reason never contains a secret or a signature value.
type Rejection struct {
	Reason string
}

// Error implements error.
func (r *Rejection) Error() string { return "provider: rejected: " + r.Reason }

// Fixed rejection reasons; the others name the header at fault
// ("missing X header", "malformed X header").
const (
	ReasonNoSecret     = "no secret configured"
	ReasonNoMatch      = "no matching signature"
	ReasonTooOld       = "timestamp too old"
	ReasonTooNew       = "timestamp too far in the future"
	ReasonNoMatchAuth  = "no matching credentials"
	ReasonNoMatchToken = "no matching token"
)

// ErrMalformed is wrapped by errors for a verified body that cannot be
// parsed (e.g. Stripe body not JSON): the caller answers 400.
var ErrMalformed = errors.New("malformed payload")

// ErrUnknownKind is wrapped by New for a kind not listed by Kinds.
var ErrUnknownKind = errors.New("unknown provider kind")

// Verifier checks one request against the source's active secrets
// (plaintext, already decrypted; several during rotation). The error is a
// *Rejection (answer 401), wraps ErrMalformed (answer 400), or is a caller
// bug. Verifiers hold only their config and are safe for concurrent use.
type Verifier interface {
	Verify(req *Request, secrets []string) (Result, error)
}

// constructors maps each kind to its verifier's constructor; New validates
// the config fields a kind does not use before calling it.
var constructors = map[string]struct {
	fields []string // config fields (JSON names) this kind reads
	build  func(Config) (Verifier, error)
}{
	Stripe:           {[]string{"tolerance"}, newStripe},
	GitHub:           {nil, func(Config) (Verifier, error) { return github{}, nil }},
	Shopify:          {nil, func(Config) (Verifier, error) { return shopify{}, nil }},
	Slack:            {[]string{"tolerance"}, newSlack},
	Twilio:           {nil, func(Config) (Verifier, error) { return twilio{}, nil }},
	Paddle:           {[]string{"tolerance"}, newPaddle},
	StandardWebhooks: {[]string{"tolerance"}, newStandardWebhooks},
	HMAC:             {[]string{"header", "algorithm", "encoding", "prefix", "timestamp_header", "signed_content", "tolerance", "id_header", "type_header"}, newHMAC},
	BasicAuth:        {[]string{"username", "id_header", "type_header"}, newBasicAuth},
	TokenHeader:      {[]string{"header", "prefix", "id_header", "type_header"}, newTokenHeader},
	None:             {[]string{"id_header", "type_header"}, newNone},
}

// New returns the verifier for a provider kind. An invalid config gives a
// *ConfigError naming the bad field (shown to the user as a 422).
func New(kind string, cfg Config) (Verifier, error) {
	c, ok := constructors[kind]
	if !ok {
		return nil, fmt.Errorf("provider: %q: %w", kind, ErrUnknownKind)
	}
	// Rejecting fields a kind ignores catches a user who believes, say,
	// that a tolerance applies to GitHub, which signs no timestamp.
	for _, f := range cfg.setFields() {
		if !slices.Contains(c.fields, f) {
			return nil, &ConfigError{Field: f, Msg: "not used by provider " + kind}
		}
	}
	if err := cfg.Tolerance.validate(); err != nil {
		return nil, err
	}
	return c.build(cfg)
}

// Kinds lists the provider kinds New accepts, for UIs and validation, in
// the order a UI should offer them.
func Kinds() []string {
	return []string{Stripe, GitHub, Shopify, Slack, Twilio, Paddle, StandardWebhooks, HMAC, BasicAuth, TokenHeader, None}
}

// CheckSecret reports whether secret can be used by a source of this kind,
// so a bad secret is refused when stored (422) rather than at the first
// webhook. The error never contains the secret.
func CheckSecret(kind, secret string) error {
	if _, ok := constructors[kind]; !ok {
		return fmt.Errorf("provider: %q: %w", kind, ErrUnknownKind)
	}
	if kind == None {
		return nil
	}
	if secret == "" {
		return errors.New("provider: secret must not be empty")
	}
	if kind == StandardWebhooks {
		_, err := swKey(secret)
		return err
	}
	return nil
}
