package delivery

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

const (
	// DefaultTimeout bounds a whole attempt when Request.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxResponseBytes is how much of a response body is kept when
	// ClientOptions.MaxResponseBytes is zero.
	DefaultMaxResponseBytes = 16 << 10
	// DefaultUserAgent is sent when ClientOptions.UserAgent is empty.
	DefaultUserAgent = "hookrelay"

	// maxDrainBytes is how much of the body beyond the kept part is read
	// and thrown away so the connection can be reused; past it, closing
	// the body closes the connection, which is cheaper than reading on.
	maxDrainBytes = 1 << 20
	// maxHeaderBytes bounds response headers; net/http's default is 10 MiB.
	maxHeaderBytes = 64 << 10
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Guard checks every address dialled. Nil means NewGuard(nil): all
	// blocked ranges refused, nothing extra allowed.
	Guard *Guard
	// UserAgent is sent unless the request headers carry one, for example
	// "hookrelay/1.2.0". Default DefaultUserAgent.
	UserAgent string
	// MaxResponseBytes is how much of the response body is kept in
	// Result.Body. Default DefaultMaxResponseBytes.
	MaxResponseBytes int
	// TLSConfig, when set, replaces the default TLS settings (for a private
	// CA, or tests). The Guard applies either way.
	TLSConfig *tls.Config
	// Now returns the current time, used to resolve a Retry-After date when
	// the response has no Date header. Default time.Now.
	Now func() time.Time
}

// Client sends attempts. It is safe for concurrent use; all attempts share
// one http.Transport, so deliveries to the same host reuse connections.
type Client struct {
	guard     *Guard
	userAgent string
	maxBody   int
	now       func() time.Time
	transport *http.Transport
	http      *http.Client
}

// NewClient returns a Client configured by opts.
func NewClient(opts ClientOptions) *Client {
	c := &Client{
		guard:     cmp.Or(opts.Guard, NewGuard(nil)),
		userAgent: cmp.Or(opts.UserAgent, DefaultUserAgent),
		maxBody:   opts.MaxResponseBytes,
		now:       opts.Now,
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	// No dial timeout of its own: Request.Timeout bounds the whole attempt,
	// connect included, so a timeout always reports that one limit.
	dialer := &net.Dialer{
		KeepAlive:      30 * time.Second,
		ControlContext: c.control,
	}
	tlsConfig := opts.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c.transport = &http.Transport{
		// Never a proxy: the guard would check the proxy's address, not
		// the endpoint's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           512,
		MaxIdleConnsPerHost:    64, // a busy endpoint gets many deliveries in parallel
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// The kept body is shown as received; no transparent gunzip.
		DisableCompression: true,
	}
	c.http = &http.Client{
		Transport: c.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// control runs after DNS resolution, just before connect(2), with the
// address actually being dialled: this is where the guard applies, so a
// DNS answer that changes between validation and delivery changes nothing.
func (c *Client) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("ssrf guard: refused network %q", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("ssrf guard: refused address %q: %w", address, err)
	}
	return c.guard.Check(ap.Addr())
}

// CloseIdleConnections closes connections kept alive for reuse; call it on
// shutdown.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
}

// Request is one attempt: a POST of Body to URL.
type Request struct {
	// URL is the endpoint; it must pass ValidateURL.
	URL string
	// Header is sent as is: already signed, Content-Type included.
	Header http.Header
	// Body is sent byte for byte.
	Body []byte
	// Timeout bounds the whole attempt: connect, response headers and body
	// read. Default DefaultTimeout.
	Timeout time.Duration
}

// Send makes one attempt. It never returns an error of its own: whatever
// happened is in the Result.
func (c *Client) Send(ctx context.Context, req Request) Result {
	start := time.Now()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if _, err := parseURL(req.URL); err != nil {
		return Result{Err: err}
	}
	attemptCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(attemptCtx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Result{Err: err, Duration: time.Since(start)}
	}
	if req.Header != nil {
		hreq.Header = req.Header.Clone()
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", c.userAgent)
	}

	resp, err := c.http.Do(hreq)
	if err != nil {
		return Result{Err: attemptError(ctx, attemptCtx, timeout, err), Duration: time.Since(start)}
	}
	body, truncated, err := c.readBody(resp)
	res := Result{
		Header:    resp.Header,
		Body:      body,
		Truncated: truncated,
		Duration:  time.Since(start),
	}
	if err != nil {
		// Headers arrived but the body did not, within the time allowed:
		// the endpoint's answer is unknown, so this is a failed attempt.
		res.Err = fmt.Errorf("reading response body after HTTP %d: %w",
			resp.StatusCode, attemptError(ctx, attemptCtx, timeout, err))
		return res
	}
	res.Status = resp.StatusCode
	res.RetryAfter = parseRetryAfter(resp.Header, c.now)
	return res
}

// readBody keeps up to maxBody bytes, drains a bounded remainder so the
// connection can go back to the pool, and closes the body.
func (c *Client) readBody(resp *http.Response) ([]byte, bool, error) {
	defer resp.Body.Close()
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= int64(c.maxBody) {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, int64(c.maxBody)+1)); err != nil {
		return buf.Bytes(), false, err
	}
	body := buf.Bytes()
	if len(body) <= c.maxBody {
		return body, false, nil
	}
	// Errors past the kept part change nothing about the answer; an
	// undrained body just costs the connection.
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrainBytes)
	return body[:c.maxBody], true, nil
}

// attemptError turns a transport error into one that reads well in a log:
// timeouts name the limit, a cancelled parent context says so.
func attemptError(parent, attempt context.Context, timeout time.Duration, err error) error {
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return err
	case parent.Err() != nil:
		return fmt.Errorf("attempt cancelled: %w", err)
	case errors.Is(attempt.Err(), context.DeadlineExceeded), isTimeout(err):
		return &timeoutError{after: timeout, err: err}
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// timeoutError reports an attempt that ran out of time.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string { return "timeout after " + e.after.String() }
func (e *timeoutError) Unwrap() error { return e.err }
func (e *timeoutError) Timeout() bool { return true }
