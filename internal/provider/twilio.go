package provider

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
)

const twilioHeader = "X-Twilio-Signature"

// twilio verifies X-Twilio-Signature: base64 HMAC-SHA1, keyed with the
// auth token, over the URL followed by the sorted form parameters; for
// JSON bodies over the URL alone, whose bodySHA256 query parameter must
// then be the body's SHA-256.
type twilio struct{}

// Verify implements Verifier.
func (twilio) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	h := req.Header.Get(twilioHeader)
	if h == "" {
		return Result{}, missing(twilioHeader)
	}
	sig, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(sig) != sha1.Size {
		return Result{}, malformed(twilioHeader)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		// The URL is ours, not the sender's: a bad one is a caller bug.
		return Result{}, fmt.Errorf("provider: twilio: request URL: %w", err)
	}
	bodyHash := u.Query().Get("bodySHA256")
	var form url.Values
	if bodyHash == "" {
		// Without parameters there is nothing to check the signature
		// over, so this is a rejection, not a malformed verified body.
		if form, err = url.ParseQuery(string(req.Body)); err != nil {
			return Result{}, &Rejection{Reason: "body is not form-encoded and the URL has no bodySHA256"}
		}
	}
	params := twilioParams(form)
	matched := false
	for _, s := range secrets {
		for _, candidate := range twilioURLs(u, req.URL) {
			if anyEqual(mac(sha1.New, []byte(s), []byte(candidate), params), [][]byte{sig}) {
				matched = true
			}
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	if bodyHash != "" {
		// Checked after the signature, which covers the URL and so
		// authenticates bodySHA256 itself.
		want, err := hex.DecodeString(bodyHash)
		sum := sha256.Sum256(req.Body)
		if err != nil || subtle.ConstantTimeCompare(want, sum[:]) != 1 {
			return Result{}, &Rejection{Reason: "bodySHA256 does not match body"}
		}
		return twilioJSONResult(req.Header.Get("I-Twilio-Idempotency-Token"), req.Body)
	}
	return twilioFormResult(req.Header.Get("I-Twilio-Idempotency-Token"), form), nil
}

// twilioParams concatenates key+value for the keys in byte order, and for
// a repeated key each of its values in sorted order, as Twilio does.
func twilioParams(form url.Values) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range slices.Sorted(slices.Values(form[k])) {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return []byte(b.String())
}

// twilioURLs lists the URL as received plus the forms with the default
// port added and removed: Twilio has signed both spellings over time.
func twilioURLs(u *url.URL, raw string) []string {
	out := []string{raw}
	alt := *u
	port := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	switch {
	case u.Port() == "" && port != "":
		alt.Host = net.JoinHostPort(u.Hostname(), port)
	case u.Port() != "":
		alt.Host = u.Hostname()
		if strings.Contains(alt.Host, ":") {
			alt.Host = "[" + alt.Host + "]"
		}
	default:
		return out
	}
	if s := alt.String(); s != raw {
		out = append(out, s)
	}
	return out
}

// twilioFormResult prefers the idempotency token, which Twilio keeps across
// retries of one webhook. Without it the Sid alone would merge the several
// status callbacks of one message, so the status is part of the id; call
// webhooks are deduped only when they carry a SequenceNumber, since a
// call's TwiML and Gather requests share its Sid and status.
func twilioFormResult(token string, form url.Values) Result {
	r := Result{Verified: true, EventID: token}
	switch {
	case form.Get("MessageSid") != "":
		status := form.Get("MessageStatus")
		if status == "" {
			status = form.Get("SmsStatus")
		}
		r.EventType = status
		if r.EventID == "" {
			r.EventID = form.Get("MessageSid") + ":" + status
		}
	case form.Get("CallSid") != "":
		r.EventType = form.Get("CallStatus")
		if seq := form.Get("SequenceNumber"); r.EventID == "" && seq != "" {
			r.EventID = form.Get("CallSid") + ":" + r.EventType + ":" + seq
		}
	}
	return r
}

// twilioJSONResult reads JSON bodies (Event Streams, CloudEvents), whose
// top-level id and type are the event's own.
func twilioJSONResult(token string, body []byte) (Result, error) {
	f, ok := jsonFields(body)
	if !ok {
		return Result{}, fmt.Errorf("provider: twilio: body is not a JSON object: %w", ErrMalformed)
	}
	return Result{Verified: true, EventID: cmp.Or(f["id"], token), EventType: f["type"]}, nil
}
