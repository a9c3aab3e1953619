package provider

import (
	"crypto/hmac"
	"hash"
	"net/http"
	"time"
)

// usableSecrets drops empty secrets: an empty HMAC key is one anybody can
// sign with, so it must never count as configured.
func usableSecrets(secrets []string) ([]string, error) {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, &Rejection{Reason: ReasonNoSecret}
	}
	return out, nil
}

func missing(header string) error   { return &Rejection{Reason: "missing " + header + " header"} }
func malformed(header string) error { return &Rejection{Reason: "malformed " + header + " header"} }

var errNoMatch = &Rejection{Reason: ReasonNoMatch}

// checkWindow rejects a signed timestamp more than tol away from now in
// either direction. Old ones are replays; future ones are refused too,
// because a far-future timestamp would stay replayable for a long time.
func checkWindow(ts, now time.Time, tol time.Duration) error {
	switch {
	case now.Sub(ts) > tol:
		return &Rejection{Reason: ReasonTooOld}
	case ts.Sub(now) > tol:
		return &Rejection{Reason: ReasonTooNew}
	}
	return nil
}

// parseUnix reads a Unix time in whole seconds. Only plain digits are
// accepted, because senders sign the header text as is and "+12" or "012"
// would sign differently from the number they denote.
func parseUnix(s string) (time.Time, bool) {
	if s == "" || len(s) > 12 || (len(s) > 1 && s[0] == '0') {
		return time.Time{}, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		n = n*10 + int64(c-'0')
	}
	return time.Unix(n, 0), true
}

// mac computes the HMAC of the concatenated parts.
func mac(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// anyEqual reports whether want equals any candidate, in constant time per
// comparison.
func anyEqual(want []byte, candidates [][]byte) bool {
	ok := false
	for _, c := range candidates {
		if hmac.Equal(want, c) {
			ok = true
		}
	}
	return ok
}

// headerMeta is how providers without a fixed scheme name their events:
// the id only from the configured header (guessing from the body could
// dedup distinct events), the type from the configured header or from a
// top-level JSON "type".
type headerMeta struct {
	idHeader, typeHeader string
}

func newHeaderMeta(cfg Config) (headerMeta, error) {
	if err := checkHeaderField("id_header", cfg.IDHeader); err != nil {
		return headerMeta{}, err
	}
	if err := checkHeaderField("type_header", cfg.TypeHeader); err != nil {
		return headerMeta{}, err
	}
	return headerMeta{cfg.IDHeader, cfg.TypeHeader}, nil
}

func (m headerMeta) result(h http.Header, body []byte, verified bool) Result {
	r := Result{Verified: verified}
	if m.idHeader != "" {
		r.EventID = h.Get(m.idHeader)
	}
	if m.typeHeader != "" {
		r.EventType = h.Get(m.typeHeader)
	} else if f, ok := jsonFields(body); ok {
		r.EventType = f["type"]
	}
	return r
}
