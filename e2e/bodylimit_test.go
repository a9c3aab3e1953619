package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// rawPost writes a whole request (headers, then every body byte) before
// reading anything, as a simple provider's client does, and returns the
// answer. A server that answers and closes while the body is still
// arriving makes the write or the read fail with a reset.
func rawPost(t *testing.T, addr, path string, header map[string]string, body []byte) (int, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	testenv.Must(t, err)
	defer conn.Close()
	// A bound against a hung server, not a timing assertion.
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, addr, len(body))
	for k, v := range header {
		fmt.Fprintf(&h, "%s: %s\r\n", k, v)
	}
	h.WriteString("\r\n")
	if _, err := io.WriteString(conn, h.String()); err != nil {
		return 0, nil, fmt.Errorf("write headers: %w", err)
	}
	if _, err := conn.Write(body); err != nil {
		return 0, nil, fmt.Errorf("write body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, nil, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func errorCode(b []byte) string {
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &out)
	return out.Error.Code
}

// A sender of an oversized body that writes it all before reading always
// reads the 413 body_too_large: the server reads and discards the rest of
// the body (up to a bounded amount) instead of closing on it. Bodies at
// the limit still go through byte for byte.
func TestOversizedIngestSenderReads413(t *testing.T) {
	const limit = 1 << 20
	e := newEnv(t, envOptions{noWorker: true, maxBody: limit})
	src := e.stripeSource()
	addr := strings.TrimPrefix(e.baseURL, "http://")
	path := "/in/" + src.IngestToken
	for _, size := range []int{limit + 1, 2 << 20, 8 << 20} {
		body := bytes.Repeat([]byte("a"), size)
		for i := range 10 {
			status, b, err := rawPost(t, addr, path, map[string]string{"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"}, body)
			if err != nil || status != 413 || errorCode(b) != "body_too_large" {
				t.Fatalf("%d bytes, try %d: got %d %s, err %v; want 413 body_too_large", size, i, status, b, err)
			}
		}
	}
	// A compressed body outside /in/ is refused with 415, read all the same.
	for i := range 3 {
		status, b, err := rawPost(t, addr, "/api/v1/sources", map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"},
			bytes.Repeat([]byte("z"), 4<<20))
		if err != nil || status != 415 || errorCode(b) != "unsupported_content_encoding" {
			t.Fatalf("gzip 4 MiB to the API, try %d: got %d %s, err %v; want 415 unsupported_content_encoding", i, status, b, err)
		}
	}
	// A chunked body over the limit (no Content-Length to refuse it by).
	req, err := http.NewRequest("POST", e.baseURL+path, io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("b"), 2<<20))))
	testenv.Must(t, err)
	req.Header.Set("Stripe-Signature", "t=1,v1=00")
	if status, resp := do(t, req); status != 413 || resp["error"].(map[string]any)["code"] != "body_too_large" {
		t.Fatalf("chunked 2 MiB: got %d %v, want 413 body_too_large", status, resp)
	}
	if n := e.count("events"); n != 0 {
		t.Fatalf("%d events stored from oversized bodies", n)
	}

	// Exactly at the limit, signed: accepted and stored byte for byte,
	// whether sent with a length or chunked.
	for _, chunked := range []bool{false, true} {
		id := fmt.Sprintf("evt_at_limit_%v", chunked)
		ev := stripeEvent(id, "invoice.paid")
		full := append(ev[:len(ev)-1:len(ev)-1], []byte(`,"pad":"`)...)
		full = append(full, bytes.Repeat([]byte("p"), limit-len(full)-2)...)
		full = append(full, '"', '}')
		if len(full) != limit {
			t.Fatalf("built %d bytes", len(full))
		}
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: full, Secret: stripeSecret, Timestamp: time.Now()})
		var rd io.Reader = bytes.NewReader(full)
		if chunked {
			rd = io.MultiReader(rd)
		}
		req, err := http.NewRequest("POST", e.baseURL+path, rd)
		testenv.Must(t, err)
		req.Header.Set("Stripe-Signature", sp.Header)
		status, resp := do(t, req)
		if status != 200 {
			t.Fatalf("at the limit (chunked %v): %d %v", chunked, status, resp)
		}
		var got []byte
		testenv.Must(t, e.db.NewRaw("SELECT body FROM events WHERE id = ?", resp["id"]).Scan(context.Background(), &got))
		if !bytes.Equal(got, full) {
			t.Fatalf("stored body differs (chunked %v): %d bytes, want %d", chunked, len(got), len(full))
		}
	}
}

// An event PostgreSQL refuses for its data (here a provider event id too
// long for the dedup index) is answered 500 with a request id, not 503:
// a 503 tells the provider to retry an event that can never be stored.
// An outage still answers 503 (TestIngestPostgresDown).
func TestIngestDataErrorIsNotUnavailable(t *testing.T) {
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	b := make([]byte, 6000)
	_, _ = rand.Read(b)
	body := stripeEvent("evt_"+hex.EncodeToString(b), "invoice.paid")
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
	req, err := http.NewRequest("POST", e.baseURL+"/in/"+src.IngestToken, bytes.NewReader(body))
	testenv.Must(t, err)
	req.Header.Set("Stripe-Signature", sp.Header)
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rid := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || errorCode(raw) != "internal" || rid == "" || !strings.Contains(string(raw), rid) {
		t.Fatalf("got %d %s (request id %q), want 500 internal naming the request id", resp.StatusCode, raw, rid)
	}
	if resp.Header.Get("Retry-After") != "" {
		t.Fatalf("Retry-After %q on a data error", resp.Header.Get("Retry-After"))
	}
	if n := e.count("events"); n != 0 {
		t.Fatalf("%d events stored", n)
	}
	// The next, ordinary event is stored as usual.
	if status, out := e.postStripe(src, stripeEvent("evt_ok", "invoice.paid"), stripeSecret, time.Now()); status != 200 {
		t.Fatalf("next event: %d %v", status, out)
	}
}
