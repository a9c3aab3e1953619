package delivery

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Result is what happened on one attempt. Exactly one of Status > 0 and
// Err != nil holds.
type Result struct {
	// Status is the response status code, 0 when there was no complete
	// response.
	Status int
	// Header is the response header, also kept when the body read failed.
	Header http.Header
	// Body is the start of the response body, at most MaxResponseBytes.
	Body []byte
	// Truncated says the body was longer than Body.
	Truncated bool
	// Duration is the time from Send to the end of the body read.
	Duration time.Duration
	// RetryAfter is the parsed Retry-After header (delay in seconds, or an
	// HTTP date taken relative to the response's Date header, or to now
	// when it has none); 0 when absent, invalid or in the past.
	RetryAfter time.Duration
	// Err is a transport error, a timeout, an invalid URL, or a
	// *BlockedError from the SSRF guard (find it with errors.As).
	Err error
}

// Succeeded reports a 2xx answer. A 3xx is a failure: redirects are never
// followed, so the payload did not reach its destination.
func (r Result) Succeeded() bool {
	return r.Err == nil && r.Status >= 200 && r.Status <= 299
}

// Gone reports a 410 answer, on which the caller disables the endpoint.
func (r Result) Gone() bool {
	return r.Err == nil && r.Status == http.StatusGone
}

// ErrorText is a short reason for logs and the dashboard, such as
// "ssrf guard: refused 10.0.0.1 (private)", "timeout after 15s",
// "connection refused" or "HTTP 500". It is "" for a 2xx answer.
func (r Result) ErrorText() string {
	if r.Err == nil {
		switch {
		case r.Status == 0 || r.Succeeded():
			return ""
		case r.Status >= 300 && r.Status <= 399:
			return fmt.Sprintf("HTTP %d (redirect not followed)", r.Status)
		}
		return "HTTP " + strconv.Itoa(r.Status)
	}
	return errorText(r.Err)
}

func errorText(err error) string {
	var (
		blocked *BlockedError
		timeout *timeoutError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &timeout):
		// Keep the body-read prefix if there is one: it tells the
		// endpoint answered but stalled.
		if strings.HasPrefix(err.Error(), "reading response body") {
			return "reading response body: " + timeout.Error()
		}
		return timeout.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "dns: no such host " + dnsErr.Name
		}
		return "dns: " + dnsErr.Err + " (" + dnsErr.Name + ")"
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &certErr):
		return "tls: certificate rejected: " + innermost(err)
	case errors.As(err, &recErr):
		return "tls: server did not answer TLS (plain http on an https url?)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error() // without `Post "<url>":`, which the caller already has
	}
	return err.Error()
}

// innermost returns the message of the deepest wrapped error.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// maxRetryAfterSeconds rejects values whose Duration would overflow.
const maxRetryAfterSeconds = 1 << 32

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date. A
// date is measured from the response's own Date header when present, so
// clock skew between us and the endpoint does not distort it.
func parseRetryAfter(h http.Header, now func() time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		if secs > maxRetryAfterSeconds {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	ref, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		ref = now()
	}
	if d := at.Sub(ref); d > 0 {
		return d
	}
	return 0
}
