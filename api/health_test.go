package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// lockedBuffer is a log sink safe for the concurrent readiness checks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With Redis unreachable, /readyz answers 503 naming each dependency ok or
// unavailable, and the driver's error text (address, "connection refused")
// reaches the log only.
func TestReadyzHidesDependencyErrors(t *testing.T) {
	db, _ := testenv.Postgres(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	dead := ln.Addr().String()
	testenv.Must(t, ln.Close()) // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: dead, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	logs := &lockedBuffer{}
	app := api.New(api.Deps{Logger: slog.New(slog.NewJSONHandler(logs, nil)), MaxBodyBytes: 1 << 20,
		Ready: map[string]func(context.Context) error{
			"postgres": db.PingContext,
			"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		}})
	resp, err := app.Test(httptest.NewRequest("GET", "/readyz", nil), -1)
	testenv.Must(t, err)
	body, _ := io.ReadAll(resp.Body)
	var got struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	testenv.Must(t, json.Unmarshal(body, &got))
	if resp.StatusCode != 503 || got.Status != "unavailable" || got.Checks["redis"] != "unavailable" || got.Checks["postgres"] != "ok" {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{dead, "refused", "dial", "redis:"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("readyz body shows %q: %s", leak, body)
		}
	}
	if l := logs.String(); !strings.Contains(l, "readiness_check_failed") || !strings.Contains(l, dead) {
		t.Errorf("the error detail is not in the log: %s", l)
	}
}
