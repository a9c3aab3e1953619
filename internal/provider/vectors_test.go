package provider

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// vector is one verification case; the same cases drive the table tests
// (against the expectations written here) and the golden files (against
// the recorded output).
type vector struct {
	Name    string            `json:"name"`
	Config  Config            `json:"config"`
	Secrets []string          `json:"secrets"`
	Headers map[string]string `json:"headers"`
	URL     string            `json:"url,omitempty"`
	Body    string            `json:"body"`
	Now     time.Time         `json:"now"`
	Outcome
}

// Outcome is what a verifier made of a vector, in comparable form.
type Outcome struct {
	Result    *Result `json:"result,omitempty"`
	Rejection string  `json:"rejection,omitempty"`
	Malformed bool    `json:"malformed,omitempty"`
	Error     string  `json:"error,omitempty"` // any other error
}

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func (v vector) request() *Request {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	return &Request{Body: []byte(v.Body), Header: h, URL: v.URL, Now: v.Now}
}

func run(t testing.TB, kind string, v vector) Outcome {
	t.Helper()
	ver, err := New(kind, v.Config)
	if err != nil {
		t.Fatalf("%s/%s: New: %v", kind, v.Name, err)
	}
	res, err := ver.Verify(v.request(), v.Secrets)
	var rej *Rejection
	switch {
	case err == nil:
		return Outcome{Result: &res}
	case errors.As(err, &rej):
		return Outcome{Rejection: rej.Reason}
	case errors.Is(err, ErrMalformed):
		return Outcome{Malformed: true}
	default:
		return Outcome{Error: err.Error()}
	}
}

// suite describes how to sign for one provider so the standard cases
// (valid, wrong secret, rotation, missing/malformed header, stale/future
// timestamp, tampered body, no secret) can be built for each.
type suite struct {
	kind      string
	config    Config
	secrets   [2]string // two secrets of the right shape
	body      string
	url       string
	sign      func(v *vector, secret string, ts time.Time)
	header    string // signature header, for missing/malformed cases
	badHeader string // a malformed value for it
	timed     bool   // signs a timestamp
	want      Result // result of a valid request
	noMatch   string // reason for a wrong secret, when not ReasonNoMatch
	// bodyUnsigned: the scheme authenticates the sender, not the body,
	// so a changed body still passes (basic-auth, token-header).
	bodyUnsigned bool
}

const wrongSecret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="

func (s suite) vectors() []vector { return s.vectorsAt(testNow) }

// vectorsAt builds the standard cases around now; cross-checks against
// libraries that read the wall clock pass time.Now().
func (s suite) vectorsAt(now time.Time) []vector {
	noMatch := s.noMatch
	if noMatch == "" {
		noMatch = ReasonNoMatch
	}
	mk := func(name string, secrets []string, signWith string, ts time.Time, want Outcome) vector {
		v := vector{Name: name, Config: s.config, Secrets: secrets, Headers: map[string]string{}, URL: s.url, Body: s.body, Now: now}
		s.sign(&v, signWith, ts)
		v.Outcome = want
		return v
	}
	ok := Outcome{Result: &s.want}
	one, two := s.secrets[0], s.secrets[1]
	wrong := "whsec_" + wrongSecret
	vs := []vector{
		mk("valid", []string{one}, one, now, ok),
		mk("wrong secret", []string{one}, wrong, now, Outcome{Rejection: noMatch}),
		mk("second of two secrets", []string{one, two}, two, now, ok),
		mk("no secret", nil, one, now, Outcome{Rejection: ReasonNoSecret}),
		mk("empty secret only", []string{""}, one, now, Outcome{Rejection: ReasonNoSecret}),
	}
	missing := mk("missing header", []string{one}, one, now, Outcome{Rejection: "missing " + s.header + " header"})
	delete(missing.Headers, s.header)
	bad := mk("malformed header", []string{one}, one, now, Outcome{Rejection: "malformed " + s.header + " header"})
	bad.Headers[s.header] = s.badHeader
	tampered := mk("tampered body", []string{one}, one, now, Outcome{Rejection: noMatch})
	tampered.Body += " "
	if s.bodyUnsigned {
		tampered.Name, tampered.Outcome = "changed body passes (body not signed)", ok
	}
	vs = append(vs, missing, bad, tampered)
	if s.timed {
		vs = append(vs,
			mk("stale timestamp", []string{one}, one, now.Add(-6*time.Minute), Outcome{Rejection: ReasonTooOld}),
			mk("future timestamp", []string{one}, one, now.Add(6*time.Minute), Outcome{Rejection: ReasonTooNew}),
			mk("edge of window", []string{one}, one, now.Add(-5*time.Minute), ok),
		)
	}
	return vs
}

// with returns a copy of v with the headers changed and a new expectation.
func with(v vector, name string, headers map[string]string, want Outcome) vector {
	v.Name = name
	v.Headers = maps.Clone(v.Headers)
	for k, val := range headers {
		if val == "" {
			delete(v.Headers, k)
		} else {
			v.Headers[k] = val
		}
	}
	v.Outcome = want
	return v
}

func checkVectors(t *testing.T, kind string, vs []vector) {
	t.Helper()
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			got := run(t, kind, v)
			if !equalOutcome(got, v.Outcome) {
				t.Errorf("got %s, want %s", show(got), show(v.Outcome))
			}
		})
	}
}

func equalOutcome(a, b Outcome) bool { return reflect.DeepEqual(a, b) }

func show(o Outcome) string {
	b, _ := json.Marshal(o)
	return string(b)
}
