package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// testServer is a loopback server that counts the requests and the new
// connections it sees.
type testServer struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		h(w, r)
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

func newLoopbackClient(t *testing.T, opts ClientOptions) *Client {
	t.Helper()
	if opts.Guard == nil {
		opts.Guard = NewGuard(loopback)
	}
	c := NewClient(opts)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestSendRefusedLoopback(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := NewClient(ClientOptions{}) // default guard
	port := ts.URL[strings.LastIndex(ts.URL, ":"):]
	for _, u := range []string{
		ts.URL + "/hook",
		"http://localhost" + port + "/hook", // refused after resolution, at dial
		"http://[::ffff:127.0.0.1]" + port + "/",
	} {
		res := c.Send(context.Background(), Request{URL: u, Body: []byte("{}")})
		var be *BlockedError
		if !errors.As(res.Err, &be) {
			t.Fatalf("%s: Err = %v, want *BlockedError", u, res.Err)
		}
		if be.Reason != "loopback" || res.Status != 0 || res.Succeeded() {
			t.Fatalf("%s: got %+v", u, res)
		}
		if !strings.HasPrefix(res.ErrorText(), "ssrf guard: refused ") {
			t.Fatalf("ErrorText = %q", res.ErrorText())
		}
	}
	if n := ts.requests.Load(); n != 0 {
		t.Fatalf("server saw %d requests, want 0", n)
	}
	if n := ts.conns.Load(); n != 0 {
		t.Fatalf("server saw %d connections, want 0", n)
	}

	allowed := newLoopbackClient(t, ClientOptions{})
	res := allowed.Send(context.Background(), Request{URL: ts.URL + "/hook"})
	if !res.Succeeded() || ts.requests.Load() != 1 {
		t.Fatalf("allowed: %+v, requests %d", res, ts.requests.Load())
	}
}

func TestSendExactBytesAndHeaders(t *testing.T) {
	var gotBody []byte
	var gotHeader http.Header
	var gotMethod string
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotMethod = r.Method
		gotHeader = r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Reply", "yes")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "thanks")
	})
	c := newLoopbackClient(t, ClientOptions{UserAgent: "hookrelay/1.2.3"})
	body := []byte("{\"a\": 1,  \"b\":\"\xff\x00\u00e9\"}\r\n") // odd bytes, spacing kept
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Webhook-Id", "msg_1")
	h.Set("Webhook-Signature", "v1,abc=")
	res := c.Send(context.Background(), Request{URL: ts.URL + "/in?x=1", Header: h, Body: body})
	if res.Err != nil || res.Status != http.StatusAccepted || !res.Succeeded() || res.ErrorText() != "" {
		t.Fatalf("result %+v (%s)", res, res.ErrorText())
	}
	if gotMethod != http.MethodPost || !bytes.Equal(gotBody, body) {
		t.Fatalf("method %s body %q", gotMethod, gotBody)
	}
	for k, want := range map[string]string{
		"Content-Type":      "application/json",
		"Webhook-Id":        "msg_1",
		"Webhook-Signature": "v1,abc=",
		"User-Agent":        "hookrelay/1.2.3",
	} {
		if got := gotHeader.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if string(res.Body) != "thanks" || res.Truncated || res.Header.Get("X-Reply") != "yes" || res.Duration <= 0 {
		t.Fatalf("response body %q truncated %v header %v duration %v", res.Body, res.Truncated, res.Header, res.Duration)
	}
	if len(h) != 3 {
		t.Fatalf("caller's header was modified: %v", h)
	}
}

func TestSendTruncatesAndReusesConnections(t *testing.T) {
	sizes := map[string]int{"/small": 10, "/medium": 100 << 10, "/huge": 4 << 20}
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), sizes[r.URL.Path]))
	})
	c := newLoopbackClient(t, ClientOptions{MaxResponseBytes: 64})
	send := func(path string) Result {
		t.Helper()
		res := c.Send(context.Background(), Request{URL: ts.URL + path})
		if !res.Succeeded() {
			t.Fatalf("%s: %+v", path, res)
		}
		return res
	}
	if res := send("/small"); len(res.Body) != 10 || res.Truncated {
		t.Fatalf("small: %d bytes, truncated %v", len(res.Body), res.Truncated)
	}
	if res := send("/medium"); len(res.Body) != 64 || !res.Truncated {
		t.Fatalf("medium: %d bytes, truncated %v", len(res.Body), res.Truncated)
	}
	send("/small")
	if n := ts.conns.Load(); n != 1 {
		t.Fatalf("after drained bodies: %d connections, want 1 (keep-alive)", n)
	}
	if res := send("/huge"); len(res.Body) != 64 || !res.Truncated {
		t.Fatalf("huge: %d bytes, truncated %v", len(res.Body), res.Truncated)
	}
	send("/small")
	if n := ts.conns.Load(); n != 2 {
		t.Fatalf("after a body past the drain bound: %d connections, want 2", n)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	var targetHits atomic.Int64
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			targetHits.Add(1)
			return
		}
		http.Redirect(w, r, "/target", http.StatusFound)
	})
	c := newLoopbackClient(t, ClientOptions{})
	for _, code := range []int{http.StatusFound} {
		res := c.Send(context.Background(), Request{URL: ts.URL + "/hook"})
		if res.Status != code || res.Succeeded() || res.Err != nil {
			t.Fatalf("got %+v", res)
		}
		if res.Header.Get("Location") != "/target" {
			t.Fatalf("Location = %q", res.Header.Get("Location"))
		}
		if got := res.ErrorText(); got != "HTTP 302 (redirect not followed)" {
			t.Fatalf("ErrorText = %q", got)
		}
	}
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("redirect target hit %d times", n)
	}
}

func TestSendStatuses(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"/gone": 410, "/fail": 500, "/ok": 200, "/nocontent": 204}[r.URL.Path]
		w.WriteHeader(code)
	})
	c := newLoopbackClient(t, ClientOptions{})
	tests := []struct {
		path      string
		succeeded bool
		gone      bool
		text      string
	}{
		{"/ok", true, false, ""},
		{"/nocontent", true, false, ""},
		{"/gone", false, true, "HTTP 410"},
		{"/fail", false, false, "HTTP 500"},
	}
	for _, tt := range tests {
		res := c.Send(context.Background(), Request{URL: ts.URL + tt.path})
		if res.Succeeded() != tt.succeeded || res.Gone() != tt.gone || res.ErrorText() != tt.text || res.Err != nil {
			t.Errorf("%s: %+v succeeded=%v gone=%v text=%q", tt.path, res, res.Succeeded(), res.Gone(), res.ErrorText())
		}
	}
}
