package api_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/api"
)

// clientIP serves an app trusting the given proxies on loopback and
// returns the c.IP() a request from 127.0.0.1 carrying X-Forwarded-For
// xff is given.
func clientIP(t *testing.T, trusted []string, xff string) string {
	t.Helper()
	app := api.New(api.Deps{TrustedProxies: trusted, NoMetricsRoute: true, Mount: func(app *fiber.App) {
		app.Get("/test/ip", func(c *fiber.Ctx) error { return c.SendString(c.IP()) })
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.Shutdown() }()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/test/ip", nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestTrustedProxies: the client address comes from X-Forwarded-For only
// when the request arrives from a trusted proxy; anyone else's header is
// ignored, so a client cannot pick the address sign-in throttling keys on.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"trusted loopback proxy", []string{"127.0.0.0/8"}, "203.0.113.7", "203.0.113.7"},
		{"trusted proxy by address, first valid hop", []string{"127.0.0.1"}, "203.0.113.7, 10.0.0.5", "203.0.113.7"},
		{"trusted proxy, no header", []string{"127.0.0.0/8"}, "", "127.0.0.1"},
		{"untrusted peer spoofing", []string{"10.0.0.0/8"}, "203.0.113.7", "127.0.0.1"},
		{"none trusted (default)", nil, "203.0.113.7", "127.0.0.1"},
	} {
		if got := clientIP(t, tc.trusted, tc.xff); got != tc.want {
			t.Errorf("%s: c.IP() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
