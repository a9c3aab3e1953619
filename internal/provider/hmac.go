package provider

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"time"
)

// genericHMAC verifies any sender that signs with a shared-secret HMAC in
// one header, optionally over a timestamp header too.
type genericHMAC struct {
	header    string
	hash      func() hash.Hash
	size      int
	base64    bool
	prefix    string
	tsHeader  string
	template  []string // literal text and the placeholders {timestamp}, {body}
	tolerance time.Duration
	meta      headerMeta
}

const (
	phTimestamp = "{timestamp}"
	phBody      = "{body}"
)

func newHMAC(cfg Config) (Verifier, error) {
	v := genericHMAC{
		header:   cfg.Header,
		prefix:   cfg.Prefix,
		tsHeader: cfg.TimestampHeader,
	}
	if v.header == "" {
		v.header = "X-Signature"
	}
	if err := checkHeaderField("header", v.header); err != nil {
		return nil, err
	}
	if err := checkHeaderField("timestamp_header", v.tsHeader); err != nil {
		return nil, err
	}
	switch cfg.Algorithm {
	case "sha1":
		v.hash, v.size = sha1.New, sha1.Size
	case "", "sha256":
		v.hash, v.size = sha256.New, sha256.Size
	case "sha512":
		v.hash, v.size = sha512.New, sha512.Size
	default:
		return nil, &ConfigError{Field: "algorithm", Msg: "must be sha1, sha256 or sha512"}
	}
	switch cfg.Encoding {
	case "", "hex":
	case "base64":
		v.base64 = true
	default:
		return nil, &ConfigError{Field: "encoding", Msg: "must be hex or base64"}
	}
	tmpl := cfg.SignedContent
	switch {
	case tmpl == "" && v.tsHeader != "":
		tmpl = phTimestamp + "." + phBody
	case tmpl == "":
		tmpl = phBody
	}
	v.template = splitTemplate(tmpl)
	if !strings.Contains(tmpl, phBody) {
		return nil, &ConfigError{Field: "signed_content", Msg: "must contain {body}"}
	}
	hasTS := strings.Contains(tmpl, phTimestamp)
	if hasTS && v.tsHeader == "" {
		return nil, &ConfigError{Field: "signed_content", Msg: "uses {timestamp} but timestamp_header is not set"}
	}
	if !hasTS && v.tsHeader != "" {
		// A timestamp outside the signed content is not authenticated,
		// so its window check would be theatre.
		return nil, &ConfigError{Field: "signed_content", Msg: "must contain {timestamp} when timestamp_header is set"}
	}
	if cfg.Tolerance != 0 && v.tsHeader == "" {
		return nil, &ConfigError{Field: "tolerance", Msg: "needs timestamp_header"}
	}
	v.tolerance = cfg.Tolerance.or()
	meta, err := newHeaderMeta(cfg)
	if err != nil {
		return nil, err
	}
	v.meta = meta
	return v, nil
}

// splitTemplate cuts a template into literal parts and placeholders so the
// signed content is rebuilt without string replacement inside the body.
func splitTemplate(t string) []string {
	var parts []string
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			parts = append(parts, t)
			break
		}
		if i > 0 {
			parts = append(parts, t[:i])
			t = t[i:]
		}
		switch {
		case strings.HasPrefix(t, phTimestamp):
			parts, t = append(parts, phTimestamp), t[len(phTimestamp):]
		case strings.HasPrefix(t, phBody):
			parts, t = append(parts, phBody), t[len(phBody):]
		default:
			parts, t = append(parts, "{"), t[1:]
		}
	}
	return parts
}

// Verify implements Verifier.
func (v genericHMAC) Verify(req *Request, secrets []string) (Result, error) {
	secrets, err := usableSecrets(secrets)
	if err != nil {
		return Result{}, err
	}
	sig, err := v.parseSignature(req.Header.Get(v.header))
	if err != nil {
		return Result{}, err
	}
	var tsRaw string
	var ts time.Time
	if v.tsHeader != "" {
		tsRaw = req.Header.Get(v.tsHeader)
		if tsRaw == "" {
			return Result{}, missing(v.tsHeader)
		}
		var ok bool
		if ts, ok = parseUnix(tsRaw); !ok {
			return Result{}, malformed(v.tsHeader)
		}
	}
	content := v.signedContent(tsRaw, req.Body)
	matched := false
	for _, s := range secrets {
		if anyEqual(mac(v.hash, []byte(s), content), [][]byte{sig}) {
			matched = true
		}
	}
	if !matched {
		return Result{}, errNoMatch
	}
	if v.tsHeader != "" {
		if err := checkWindow(ts, req.Now, v.tolerance); err != nil {
			return Result{}, err
		}
	}
	return v.meta.result(req.Header, req.Body, true), nil
}

// parseSignature strips the prefix and decodes the header value.
func (v genericHMAC) parseSignature(h string) ([]byte, error) {
	if h == "" {
		return nil, missing(v.header)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), v.prefix)
	if !ok {
		return nil, malformed(v.header)
	}
	var sig []byte
	var err error
	if v.base64 {
		sig, err = decodeBase64(rest)
	} else {
		sig, err = hex.DecodeString(rest)
	}
	if err != nil || len(sig) != v.size {
		return nil, malformed(v.header)
	}
	return sig, nil
}

// decodeBase64 accepts standard and URL alphabets, padded or not, since
// senders differ and the decoded MAC is what is compared.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, base64.CorruptInputError(0)
}

func (v genericHMAC) signedContent(ts string, body []byte) []byte {
	var b bytes.Buffer
	for _, p := range v.template {
		switch p {
		case phTimestamp:
			b.WriteString(ts)
		case phBody:
			b.Write(body)
		default:
			b.WriteString(p)
		}
	}
	return b.Bytes()
}
