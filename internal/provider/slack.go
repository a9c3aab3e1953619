package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	slackHeader   = "X-Slack-Signature"
	slackTSHeader = "X-Slack-Request-Timestamp"
)

// slack verifies X-Slack-Signature ("v0=<hex>"), an HMAC-SHA256 over
// "v0:<timestamp>:<body>", keyed with the app's signing secret.
type slack struct {
	tolerance time.Duration
}

func newSlack(cfg Config) (Verifier, error) {
	return slack{tolerance: cfg.Tolerance.or()}, nil
}

// Verify implements Verifier.
func (v slack) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	sig, tsRaw, err := parseSlackHeaders(req.Header)
	if err != nil {
		return Result{}, err
	}
	ts, _ := parseUnix(tsRaw)
	matched := false
	for _, s := range secrets {
		if anyEqual(mac(sha256.New, []byte(s), []byte("v0:"+tsRaw+":"), req.Body), [][]byte{sig}) {
			matched = true
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	if err := checkWindow(ts, req.Now, v.tolerance); err != nil {
		return Result{}, err
	}
	return slackResult(req.Body)
}

func parseSlackHeaders(h http.Header) (sig []byte, ts string, err error) {
	raw := h.Get(slackHeader)
	if raw == "" {
		return nil, "", missing(slackHeader)
	}
	if ts = h.Get(slackTSHeader); ts == "" {
		return nil, "", missing(slackTSHeader)
	}
	hexSig, ok := strings.CutPrefix(raw, "v0=")
	if !ok {
		return nil, "", malformed(slackHeader)
	}
	if sig, err = hex.DecodeString(hexSig); err != nil || len(sig) != sha256.Size {
		return nil, "", malformed(slackHeader)
	}
	if _, ok := parseUnix(ts); !ok {
		return nil, "", malformed(slackTSHeader)
	}
	return sig, ts, nil
}

// slackBody is the subset of the Events API envelope, interactivity
// payloads and slash commands we read.
type slackBody struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	EventID   string `json:"event_id"`
	TriggerID string `json:"trigger_id"`
	Event     struct {
		Type string `json:"type"`
	} `json:"event"`
}

// slackResult reads the id and type. Events API bodies are JSON;
// interactivity posts a form with the JSON in "payload"; slash commands
// post a plain form.
func slackResult(body []byte) (Result, error) {
	var b slackBody
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &b); err != nil {
			return Result{}, fmt.Errorf("provider: slack: body is not JSON: %w", ErrMalformed)
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return Result{}, fmt.Errorf("provider: slack: body is not a form: %w", ErrMalformed)
		}
		switch {
		case form.Has("payload"):
			if err := json.Unmarshal([]byte(form.Get("payload")), &b); err != nil {
				return Result{}, fmt.Errorf("provider: slack: payload is not JSON: %w", ErrMalformed)
			}
		case form.Has("command"):
			b.Type, b.TriggerID = "slash_command", form.Get("trigger_id")
		}
	}
	r := Result{Verified: true, EventID: b.EventID, EventType: b.Type}
	switch {
	case b.Type == "url_verification":
		// Slack checks the endpoint by asking for the challenge back;
		// it is not an event.
		r.Reply = &Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(b.Challenge)}
	case b.Type == "event_callback" && b.Event.Type != "":
		r.EventType = b.Event.Type
	case r.EventID == "":
		// Interactions and commands have no event id, but trigger_id
		// is unique per user action and stable if Slack resends it.
		r.EventID = b.TriggerID
	}
	return r, nil
}
