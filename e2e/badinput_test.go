package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Every bad ingest request gets its status and a clear reason, and stores
// no event, no delivery and queues no task. Signature failures are
// recorded as rejected requests with their reason.
func TestIngestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true, maxBody: 4096})
	src := e.stripeSource()
	e.endpoint("http://127.0.0.1:9/hook", src)
	good := stripeEvent("evt_bad", "invoice.paid")
	sign := func(body []byte, secret string, ts time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts}).Header
	}
	cases := []struct {
		name     string
		method   string
		path     string
		body     []byte
		sig      string
		status   int
		code     string
		rejected string // reason stored in rejected_requests, "" for none
	}{
		{"unknown token", "POST", "/in/in_nope", good, sign(good, stripeSecret, time.Now()), 404, "unknown_source", ""},
		{"missing signature", "POST", "", good, "", 401, "signature_invalid", "missing Stripe-Signature header"},
		{"wrong secret", "POST", "", good, sign(good, "whsec_other", time.Now()), 401, "signature_invalid", "no matching signature"},
		{"tampered body", "POST", "", append(good[:len(good)-1:len(good)-1], ' ', '}'), sign(good, stripeSecret, time.Now()), 401, "signature_invalid", "no matching signature"},
		{"stale timestamp", "POST", "", good, sign(good, stripeSecret, time.Now().Add(-10*time.Minute)), 401, "signature_invalid", "timestamp too old"},
		{"future timestamp", "POST", "", good, sign(good, stripeSecret, time.Now().Add(10*time.Minute)), 401, "signature_invalid", "timestamp too far in the future"},
		{"malformed header", "POST", "", good, "garbage", 401, "signature_invalid", ""},
		{"signed but not JSON", "POST", "", []byte("not json"), sign([]byte("not json"), stripeSecret, time.Now()), 400, "malformed_payload", ""},
		{"over the size limit", "POST", "", bytes.Repeat([]byte("a"), 8192), "t=1,v1=00", 413, "body_too_large", ""},
		{"wrong method", "GET", "", nil, "", 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = "/in/" + src.IngestToken
			}
			before := e.count("rejected_requests")
			req, err := http.NewRequest(c.method, e.baseURL+path, bytes.NewReader(c.body))
			testenv.Must(t, err)
			if c.sig != "" {
				req.Header.Set("Stripe-Signature", c.sig)
			}
			status, resp := do(t, req)
			errObj, _ := resp["error"].(map[string]any)
			if status != c.status || errObj["code"] != c.code || errObj["message"] == "" {
				t.Fatalf("got %d %v, want %d %s", status, resp, c.status, c.code)
			}
			if ev, dl := e.count("events"), e.count("deliveries"); ev != 0 || dl != 0 {
				t.Fatalf("stored events=%d deliveries=%d", ev, dl)
			}
			if c.rejected != "" {
				if !strings.Contains(errObj["message"].(string), c.rejected) {
					t.Fatalf("message %q does not give the reason %q", errObj["message"], c.rejected)
				}
				rs, err := store.New(e.db).ListRejected(context.Background(), e.team, src.ID, 1)
				testenv.Must(t, err)
				if e.count("rejected_requests") != before+1 || !strings.Contains(rs[0].Reason, c.rejected) {
					t.Fatalf("rejected row: %+v", rs)
				}
				if strings.Contains(rs[0].Reason, stripeSecret) {
					t.Fatal("secret in rejection reason")
				}
			}
		})
	}
	e.disp.Shutdown() // returns once anything submitted is in Redis
	if n := e.queued(); n != 0 {
		t.Fatalf("%d tasks queued after bad input", n)
	}
}

// With PostgreSQL unreachable, ingest answers 503 so the provider retries.
func TestIngestPostgresDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	body := stripeEvent("evt_pgdown", "invoice.paid")
	// Terminate every connection of the test database and refuse new ones.
	var dbname string
	testenv.Must(t, e.db.NewRaw("SELECT current_database()").Scan(context.Background(), &dbname))
	admin, _ := testenv.Postgres(t)
	_, err := admin.ExecContext(context.Background(), "ALTER DATABASE "+dbname+" ALLOW_CONNECTIONS false")
	testenv.Must(t, err)
	_, err = admin.ExecContext(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", dbname)
	testenv.Must(t, err)
	status, resp := e.postStripe(src, body, stripeSecret, time.Now())
	if status != 503 || resp["error"].(map[string]any)["code"] != "unavailable" {
		t.Fatalf("got %d %v, want 503 unavailable", status, resp)
	}
	_, err = admin.ExecContext(context.Background(), "ALTER DATABASE "+dbname+" ALLOW_CONNECTIONS true")
	testenv.Must(t, err)
	if n := e.count("events"); n != 0 {
		t.Fatalf("%d events stored while Postgres was down", n)
	}
	// Back up: the provider's retry is accepted.
	if status, resp := e.postStripe(src, body, stripeSecret, time.Now()); status != 200 {
		t.Fatalf("after recovery: %d %v", status, resp)
	}
}
