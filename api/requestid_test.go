package api_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The X-Request-Id a client sends is echoed only when it is a plain token:
// response headers never carry control characters or folded lines taken
// from a request.
func TestRequestIDEchoedOnlyWhenSane(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	plain := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	for _, c := range []struct{ sent, want string }{
		{"req-42_a.b", "req-42_a.b"},
		{"a\tb", ""},
		{"a\r\n Set-Cookie: hookrelay_session=x", ""}, // a folded line, joined by the parser
		{"a\xffb", ""},
		{"a b", ""},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		testenv.Must(t, err)
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: relay.test\r\nX-Request-Id: "+c.sent+"\r\n\r\n")
		testenv.Must(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		testenv.Must(t, err)
		resp.Body.Close()
		conn.Close()
		got := resp.Header.Values("X-Request-Id")
		if len(got) != 1 || !plain.MatchString(got[0]) || (c.want != "" && got[0] != c.want) || len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("sent %q: X-Request-Id %q, Set-Cookie %q; want %q or a fresh id", c.sent, got, resp.Header.Values("Set-Cookie"), c.want)
		}
	}
}
