package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// gzipBomb is about 100 KiB of gzip that inflates to 100 MiB of zeros.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	testenv.Must(t, err)
	zeros := make([]byte, 1<<20)
	for range 100 {
		_, err := zw.Write(zeros)
		testenv.Must(t, err)
	}
	testenv.Must(t, zw.Close())
	if buf.Len() > 256<<10 {
		t.Fatalf("bomb is %d bytes", buf.Len())
	}
	return buf.Bytes()
}

// No request body is inflated: outside /in/ a gzip body is refused with
// 415 before anything (CSRF check, form or JSON parsing) reads it, and
// ingest keeps the compressed bytes as they are (here: a bad signature,
// 401). The process's allocations stay far below the inflated size.
func TestDecompressionBombRefusedEverywhere(t *testing.T) {
	e := newEnv(t)
	dash := dashboard.New(dashboard.Deps{Relay: e.relay, PublicURL: "http://relay.test"})
	disp := e.relay.NewDispatcher(1, 10)
	t.Cleanup(disp.Shutdown)
	app := api.New(api.Deps{Relay: e.relay, Dispatcher: disp, MaxBodyBytes: 1 << 20,
		PublicURL: "http://relay.test", Mount: dash.Mount})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	base := "http://" + ln.Addr().String()

	ctx := context.Background()
	email := "bomb@example.test"
	_, err = e.relay.CreateUser(ctx, relay.SystemActor(e.team), email, "", "correct horse battery", e.team, "owner")
	testenv.Must(t, err)
	login, err := e.relay.Login(ctx, email, "correct horse battery", "127.0.0.1", "test")
	testenv.Must(t, err)
	src := e.createSource("bombed")
	ep := e.createEndpoint("http://127.0.0.1:9/hook", nil, str(src, "id"))

	ingestPath := strings.TrimPrefix(str(src, "ingest_url"), "http://relay.test")
	bomb := gzipBomb(t)
	// No transparent decompression by the client, no connection reuse.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true}}
	cases := []struct {
		name, method, path, ctype string
		header                    map[string]string
		status                    int
	}{
		{"login", "POST", "/login", "multipart/form-data; boundary=XB", nil, 415},
		{"login urlencoded", "POST", "/login", "application/x-www-form-urlencoded", nil, 415},
		{"invite", "POST", "/invite/inv_whatever", "multipart/form-data; boundary=XB", nil, 415},
		{"dashboard post", "POST", "/sources", "multipart/form-data; boundary=XB",
			map[string]string{"Cookie": "hookrelay_session=" + login.Token}, 415},
		{"api patch", "PATCH", "/api/v1/endpoints/" + str(ep, "id"), "application/json",
			map[string]string{"Authorization": "Bearer " + e.token}, 415},
		{"api post", "POST", "/api/v1/sources", "application/json",
			map[string]string{"Authorization": "Bearer " + e.token}, 415},
		{"ingest", "POST", ingestPath, "application/json",
			map[string]string{"Stripe-Signature": "t=1,v1=00"}, 401},
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, c := range cases {
		req, err := http.NewRequest(c.method, base+c.path, bytes.NewReader(bomb))
		testenv.Must(t, err)
		req.Header.Set("Content-Type", c.ctype)
		req.Header.Set("Content-Encoding", "gzip")
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %.300s", c.name, resp.StatusCode, c.status, b)
		}
		if c.status == 415 && strings.HasPrefix(c.path, "/api/") && !strings.Contains(string(b), `"unsupported_content_encoding"`) {
			t.Errorf("%s: error body %s, want code unsupported_content_encoding", c.name, b)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// One inflation alone would allocate 100 MiB.
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for %d requests", grew>>10, len(cases))
	if grew > 32<<20 {
		t.Fatalf("allocated %d MiB while answering %d bombs of %d KiB", grew>>20, len(cases), len(bomb)>>10)
	}
	// The rejected ingest is recorded; nothing was stored as an event.
	var events int
	testenv.Must(t, e.db.NewRaw("SELECT count(*) FROM events").Scan(ctx, &events))
	if events != 0 {
		t.Fatalf("%d events stored", events)
	}

	// "identity" is no encoding: still accepted outside /in/.
	req, err := http.NewRequest("GET", base+"/api/v1/sources", nil)
	testenv.Must(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Encoding", "identity")
	resp, err := client.Do(req)
	testenv.Must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("Content-Encoding identity: status %d", resp.StatusCode)
	}
}
