package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

const (
	githubHeader     = "X-Hub-Signature-256"
	githubSHA1Header = "X-Hub-Signature"
)

// github verifies X-Hub-Signature-256 ("sha256=<hex>").
type github struct{}

// Verify implements Verifier. The SHA-1 X-Hub-Signature header is not
// accepted on its own: GitHub always sends the SHA-256 one too, so a
// request with only SHA-1 is either very old tooling or a downgrade.
func (github) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	sig, err := parseGitHubSignature(req.Header)
	if err != nil {
		return Result{}, err
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
	r := Result{
		EventID:   req.Header.Get("X-GitHub-Delivery"),
		EventType: req.Header.Get("X-GitHub-Event"),
		Verified:  true,
	}
	if r.EventType == "ping" {
		// GitHub sends ping once when the hook is created; it is not an
		// event anyone subscribes to, so answer it here.
		r.Reply = &Reply{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"ok":true}`)}
	}
	return r, nil
}

func parseGitHubSignature(h http.Header) ([]byte, error) {
	v := h.Get(githubHeader)
	if v == "" {
		if h.Get(githubSHA1Header) != "" {
			return nil, &Rejection{Reason: "missing " + githubHeader + " header (SHA-1 " + githubSHA1Header + " is not accepted)"}
		}
		return nil, missing(githubHeader)
	}
	hexSig, ok := strings.CutPrefix(v, "sha256=")
	if !ok {
		return nil, malformed(githubHeader)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return nil, malformed(githubHeader)
	}
	return sig, nil
}
