package delivery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slowbody" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	defer close(release)
	c := newLoopbackClient(t, ClientOptions{})
	for _, path := range []string{"/slowheaders", "/slowbody"} {
		start := time.Now()
		res := c.Send(context.Background(), Request{URL: ts.URL + path, Timeout: 200 * time.Millisecond})
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("%s: Send took %v", path, took)
		}
		if res.Err == nil || res.Status != 0 || res.Succeeded() {
			t.Fatalf("%s: %+v", path, res)
		}
		if !errors.Is(res.Err, context.DeadlineExceeded) {
			t.Errorf("%s: Err %v does not wrap context.DeadlineExceeded", path, res.Err)
		}
		if got := res.ErrorText(); !strings.Contains(got, "timeout after 200ms") {
			t.Fatalf("%s: ErrorText = %q", path, got)
		}
	}
}

func TestSendParentCancelled(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newLoopbackClient(t, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := c.Send(ctx, Request{URL: ts.URL})
	if res.Err == nil || !errors.Is(res.Err, context.Canceled) || strings.Contains(res.ErrorText(), "timeout") {
		t.Fatalf("%+v %q", res, res.ErrorText())
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newLoopbackClient(t, ClientOptions{})
	res := c.Send(context.Background(), Request{URL: "http://" + addr + "/"})
	if res.Err == nil || res.ErrorText() != "connection refused" {
		t.Fatalf("Err %v, ErrorText %q", res.Err, res.ErrorText())
	}
}

func TestSendBadURL(t *testing.T) {
	c := NewClient(ClientOptions{})
	for _, u := range []string{"file:///etc/passwd", "ftp://8.8.8.8/", "https://u:p@example.com/", "not a url"} {
		res := c.Send(context.Background(), Request{URL: u})
		if res.Err == nil || res.Status != 0 || res.ErrorText() == "" {
			t.Fatalf("%s: %+v", u, res)
		}
	}
}

func TestClientNeverUsesProxy(t *testing.T) {
	c := NewClient(ClientOptions{})
	if c.transport.Proxy != nil {
		t.Fatal("transport has a Proxy func: HTTP_PROXY would bypass the guard")
	}
	if c.http.CheckRedirect == nil {
		t.Fatal("client follows redirects")
	}
}

func TestSendTLS(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ts.Close)
	plain := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {})

	c := newLoopbackClient(t, ClientOptions{})
	res := c.Send(context.Background(), Request{URL: ts.URL})
	if res.Err == nil || !strings.HasPrefix(res.ErrorText(), "tls: certificate rejected: ") {
		t.Fatalf("untrusted cert: %+v %q", res, res.ErrorText())
	}
	res = c.Send(context.Background(), Request{URL: strings.Replace(plain.URL, "http:", "https:", 1)})
	if res.Err == nil || !strings.Contains(res.ErrorText(), "server gave HTTP response to HTTPS client") {
		t.Fatalf("plain server on https: %+v %q", res, res.ErrorText())
	}

	trusted := newLoopbackClient(t, ClientOptions{
		TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig,
	})
	if res := trusted.Send(context.Background(), Request{URL: ts.URL}); !res.Succeeded() {
		t.Fatalf("trusted: %+v %q", res, res.ErrorText())
	}
	guarded := NewClient(ClientOptions{TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig})
	var be *BlockedError
	if res := guarded.Send(context.Background(), Request{URL: ts.URL}); !errors.As(res.Err, &be) {
		t.Fatalf("custom TLS config must keep the guard: %+v", res)
	}
}
