package delivery

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSend measures one attempt against a loopback server over a
// kept-alive connection: 1 KiB body, signed-looking headers, 2xx answer.
func BenchmarkSend(b *testing.B) {
	c, req := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Send(ctx, req); !res.Succeeded() {
			b.Fatalf("%+v", res)
		}
	}
}

// BenchmarkSendParallel is BenchmarkSend from GOMAXPROCS goroutines, the
// way a worker with concurrency > 1 uses one Client.
func BenchmarkSendParallel(b *testing.B) {
	c, req := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := c.Send(ctx, req); !res.Succeeded() {
				b.Errorf("%+v", res)
				return
			}
		}
	})
}

func benchSetup(b *testing.B) (*Client, Request) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(ts.Close)
	c := NewClient(ClientOptions{Guard: NewGuard(loopback), UserAgent: "hookrelay/bench"})
	b.Cleanup(c.CloseIdleConnections)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Webhook-Id", "msg_2Zx7pQm0r4bW")
	h.Set("Webhook-Timestamp", "1767225600")
	h.Set("Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	return c, Request{URL: ts.URL + "/hook", Header: h, Body: bytes.Repeat([]byte("a"), 1024)}
}
