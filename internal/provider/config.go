package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the non-secret verification config of a source, stored as JSON
// (jsonb) on the source row. Every field is optional; New rejects a field
// the provider kind does not use.
type Config struct {
	// Header names the header carrying the signature (hmac, default
	// X-Signature) or the token (token-header, required).
	Header string `json:"header,omitempty"`
	// Algorithm is the HMAC hash for hmac: sha1, sha256 (default) or sha512.
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding is how hmac signatures are written: hex (default) or base64.
	Encoding string `json:"encoding,omitempty"`
	// Prefix precedes the signature (hmac, e.g. "sha256=") or the token
	// (token-header, e.g. "Bearer "); a request without it is malformed.
	Prefix string `json:"prefix,omitempty"`
	// TimestampHeader names the header with the Unix time in seconds that
	// hmac senders include in the signed content to stop replays.
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// SignedContent is the hmac signed-content template over {timestamp}
	// and {body}; default "{body}", or "{timestamp}.{body}" with a
	// TimestampHeader.
	SignedContent string `json:"signed_content,omitempty"`
	// Tolerance is how far a signed timestamp may be from now, either way;
	// default 5m. For stripe, slack, paddle, standard-webhooks, and hmac
	// with a TimestampHeader.
	Tolerance Duration `json:"tolerance,omitempty"`
	// IDHeader names the header whose value is the event id used for dedup
	// (hmac, basic-auth, token-header, none). Empty: no dedup.
	IDHeader string `json:"id_header,omitempty"`
	// TypeHeader names the header with the event type; without it the
	// top-level JSON "type" string is used when the body is JSON.
	TypeHeader string `json:"type_header,omitempty"`
	// Username is the expected basic-auth user name (required for
	// basic-auth); the password is the source's secret.
	Username string `json:"username,omitempty"`
}

// ConfigError is an invalid Config field; Field is its JSON name.
type ConfigError struct {
	Field string
	Msg   string
}

// Error implements error.
func (e *ConfigError) Error() string { return "provider: config " + e.Field + ": " + e.Msg }

// setFields lists the JSON names of the fields that are not empty.
func (c Config) setFields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"header", c.Header != ""},
		{"algorithm", c.Algorithm != ""},
		{"encoding", c.Encoding != ""},
		{"prefix", c.Prefix != ""},
		{"timestamp_header", c.TimestampHeader != ""},
		{"signed_content", c.SignedContent != ""},
		{"tolerance", c.Tolerance != 0},
		{"id_header", c.IDHeader != ""},
		{"type_header", c.TypeHeader != ""},
		{"username", c.Username != ""},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// DefaultTolerance is the timestamp window used when Config.Tolerance is 0;
// it matches Stripe, Slack and Standard Webhooks.
const DefaultTolerance = 5 * time.Minute

// maxTolerance caps the window: a day-long window no longer stops replays.
const maxTolerance = 24 * time.Hour

// Duration is a time.Duration that reads from JSON either as a Go duration
// string ("5m", "90s") or as a number of seconds (300), and writes as a string.
type Duration time.Duration

// UnmarshalJSON accepts "5m", "300" or 300.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("tolerance: %w", err)
		}
	} else {
		s = string(b)
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || secs > maxTolerance.Seconds() {
			return fmt.Errorf("tolerance: %v seconds is out of range", secs)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("tolerance: %q is neither a duration like \"5m\" nor a number of seconds", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d Duration) validate() error {
	if d < 0 {
		return &ConfigError{Field: "tolerance", Msg: "must not be negative"}
	}
	if time.Duration(d) > maxTolerance {
		return &ConfigError{Field: "tolerance", Msg: "must be at most 24h"}
	}
	return nil
}

// or returns the duration, or DefaultTolerance when it is unset.
func (d Duration) or() time.Duration {
	if d == 0 {
		return DefaultTolerance
	}
	return time.Duration(d)
}

// validHeaderName reports whether s is an HTTP header field name (RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// checkHeaderField validates an optional header-name field.
func checkHeaderField(field, value string) error {
	if value != "" && !validHeaderName(value) {
		return &ConfigError{Field: field, Msg: "is not a valid HTTP header name"}
	}
	return nil
}
