package provider

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// equalSecret compares in constant time over fixed-length digests, so not
// even the length of the expected value leaks through timing.
func equalSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// basicAuth checks "Authorization: Basic" against a fixed user name and the
// source's secrets as passwords.
type basicAuth struct {
	username string
	meta     headerMeta
}

func newBasicAuth(cfg Config) (Verifier, error) {
	if cfg.Username == "" {
		return nil, &ConfigError{Field: "username", Msg: "is required for basic-auth"}
	}
	if strings.Contains(cfg.Username, ":") {
		return nil, &ConfigError{Field: "username", Msg: "must not contain ':'"}
	}
	meta, err := newHeaderMeta(cfg)
	if err != nil {
		return nil, err
	}
	return basicAuth{username: cfg.Username, meta: meta}, nil
}

// Verify implements Verifier.
func (v basicAuth) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	h := req.Header.Get("Authorization")
	if h == "" {
		return Result{}, missing("Authorization")
	}
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return Result{}, malformed("Authorization")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return Result{}, malformed("Authorization")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Result{}, malformed("Authorization")
	}
	userOK := equalSecret(user, v.username)
	passOK := false
	for _, s := range secrets {
		if equalSecret(pass, s) {
			passOK = true
		}
	}
	if !userOK || !passOK {
		return Result{}, &Rejection{Reason: ReasonNoMatchAuth}
	}
	return v.meta.result(req.Header, req.Body, true), nil
}

// tokenHeader checks that a header carries one of the secrets verbatim.
type tokenHeader struct {
	header string
	prefix string
	meta   headerMeta
}

func newTokenHeader(cfg Config) (Verifier, error) {
	if cfg.Header == "" {
		return nil, &ConfigError{Field: "header", Msg: "is required for token-header"}
	}
	if err := checkHeaderField("header", cfg.Header); err != nil {
		return nil, err
	}
	meta, err := newHeaderMeta(cfg)
	if err != nil {
		return nil, err
	}
	return tokenHeader{header: cfg.Header, prefix: cfg.Prefix, meta: meta}, nil
}

// Verify implements Verifier.
func (v tokenHeader) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	h := req.Header.Get(v.header)
	if h == "" {
		return Result{}, missing(v.header)
	}
	token, ok := strings.CutPrefix(h, v.prefix)
	if !ok {
		return Result{}, malformed(v.header)
	}
	matched := false
	for _, s := range secrets {
		if equalSecret(token, s) {
			matched = true
		}
	}
	if !matched {
		return Result{}, &Rejection{Reason: ReasonNoMatchToken}
	}
	return v.meta.result(req.Header, req.Body, true), nil
}

// none accepts everything unverified, for senders that cannot sign; the
// event is stored with Verified=false so the UI can say so.
type none struct {
	meta headerMeta
}

func newNone(cfg Config) (Verifier, error) {
	meta, err := newHeaderMeta(cfg)
	if err != nil {
		return nil, err
	}
	return none{meta: meta}, nil
}

// Verify implements Verifier.
func (v none) Verify(req *Request, _ []string) (Result, error) {
	return v.meta.result(req.Header, req.Body, false), nil
}
