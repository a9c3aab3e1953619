package delivery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestSendRetryAfter(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/seconds":
			w.Header().Set("Retry-After", "120")
		case "/date":
			w.Header().Set("Date", date.Format(http.TimeFormat))
			w.Header().Set("Retry-After", date.Add(90*time.Second).Format(http.TimeFormat))
		case "/date-no-server-date":
			w.Header()["Date"] = nil // suppress the automatic Date header
			w.Header().Set("Retry-After", date.Add(30*time.Second).Format(http.TimeFormat))
		case "/past":
			w.Header().Set("Date", date.Format(http.TimeFormat))
			w.Header().Set("Retry-After", date.Add(-time.Minute).Format(http.TimeFormat))
		case "/garbage":
			w.Header().Set("Retry-After", "soon")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newLoopbackClient(t, ClientOptions{Now: func() time.Time { return date }})
	for path, want := range map[string]time.Duration{
		"/seconds":             120 * time.Second,
		"/date":                90 * time.Second,
		"/date-no-server-date": 30 * time.Second,
		"/past":                0,
		"/garbage":             0,
		"/none":                0,
	} {
		res := c.Send(context.Background(), Request{URL: ts.URL + path})
		if res.Status != 503 || res.RetryAfter != want {
			t.Errorf("%s: status %d RetryAfter %v, want %v", path, res.Status, res.RetryAfter, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	for v, want := range map[string]time.Duration{
		"0":                                0,
		"5":                                5 * time.Second,
		" 7 ":                              7 * time.Second,
		"-5":                               0,
		"1.5":                              0,
		"99999999999999999999":             0,
		"Thu, 01 Jan 2026 00:10:00 GMT":    10 * time.Minute,
		"Thursday, 01-Jan-26 00:00:30 GMT": 30 * time.Second, // RFC 850
		"Thu Jan  1 00:01:00 2026":         time.Minute,      // asctime
	} {
		h := http.Header{"Retry-After": {v}}
		if got := parseRetryAfter(h, now); got != want {
			t.Errorf("%q: got %v, want %v", v, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://example.com/hook", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		res  Result
		want string
	}{
		{Result{}, ""},
		{Result{Status: 200}, ""},
		{Result{Status: 299}, ""},
		{Result{Status: 301}, "HTTP 301 (redirect not followed)"},
		{Result{Status: 404}, "HTTP 404"},
		{Result{Status: 503}, "HTTP 503"},
		{Result{Err: wrap(&BlockedError{Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"})}, "ssrf guard: refused 10.0.0.1 (private)"},
		{Result{Err: wrap(&timeoutError{after: 15 * time.Second, err: context.DeadlineExceeded})}, "timeout after 15s"},
		{Result{Err: wrap(os.NewSyscallError("connect", syscall.ECONNREFUSED))}, "connection refused"},
		{Result{Err: wrap(os.NewSyscallError("read", syscall.ECONNRESET))}, "connection reset by peer"},
		{Result{Err: wrap(&net.DNSError{Name: "nope.invalid", Err: "no such host", IsNotFound: true})}, "dns: no such host nope.invalid"},
		{Result{Err: wrap(&net.DNSError{Name: "slow.example", Err: "i/o timeout", IsTimeout: true})}, "dns: i/o timeout (slow.example)"},
		{Result{Err: &url.Error{Op: "Post", URL: "https://example.com/", Err: errors.New("EOF")}}, "EOF"},
	}
	for _, tt := range tests {
		if got := tt.res.ErrorText(); got != tt.want {
			t.Errorf("%+v: ErrorText = %q, want %q", tt.res, got, tt.want)
		}
	}
}
