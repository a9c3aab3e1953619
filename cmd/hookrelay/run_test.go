package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func testGetenv(t *testing.T, dsn string, extra map[string]string) func(string) string {
	redis := testenv.Redis(t)
	m := map[string]string{"HOOKRELAY_DATABASE_URL": dsn, "HOOKRELAY_REDIS_ADDR": redis.Addr,
		"HOOKRELAY_REDIS_DB": fmt.Sprint(redis.DB), "HOOKRELAY_ENCRYPTION_KEYS": secret.NewKey("k1"),
		"HOOKRELAY_LOG_LEVEL": "error"}
	for k, v := range extra {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestVersionConfigAndUnknown(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"hookrelay", "version"}, func(string) string { return "" }, &out); err != nil ||
		!strings.HasPrefix(out.String(), "hookrelay ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	out.Reset()
	getenv := func(k string) string {
		return map[string]string{"HOOKRELAY_ENCRYPTION_KEYS": "k1:c2VjcmV0c2VjcmV0"}[k]
	}
	if err := run(context.Background(), []string{"hookrelay", "config"}, getenv, &out); err != nil ||
		!strings.Contains(out.String(), "HOOKRELAY_ENCRYPTION_KEYS        (set, redacted)") || strings.Contains(out.String(), "c2VjcmV0") {
		t.Fatalf("config: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"hookrelay", "frobnicate"}, getenv, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// serve refuses an old schema; after migrate up, `all` starts, answers
// health checks, and shuts down cleanly when its context ends.
func TestMigrateAndServeLifecycle(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	addr := freePort(t)
	getenv := testGetenv(t, dsn, map[string]string{"HOOKRELAY_LISTEN": addr})
	var out bytes.Buffer
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "down"}, getenv, &out))
	err := run(context.Background(), []string{"hookrelay", "serve"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "schema is behind") {
		t.Fatalf("serve on an old schema: %v", err)
	}
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "up"}, getenv, &out))
	out.Reset()
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "status"}, getenv, &out))
	if !strings.Contains(out.String(), "pending: (none)") {
		t.Fatalf("status: %q", out.String())
	}
	out.Reset()
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "admin", "bootstrap"}, getenv, &out))
	if !strings.Contains(out.String(), "API token (shown once") || !strings.Contains(out.String(), "/in/in_") {
		t.Fatalf("bootstrap output: %q", out.String())
	}
	out.Reset()
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "admin", "bootstrap"}, getenv, &out))
	if !strings.Contains(out.String(), "Already set up") {
		t.Fatalf("second bootstrap: %q", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"hookrelay", "all"}, getenv, &bytes.Buffer{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// trigger signs with the bootstrap source's secret and posts through HTTP.
	var tout bytes.Buffer
	if err := run(context.Background(), []string{"hookrelay", "trigger", "checkout.session.completed"}, getenv, &tout); err != nil ||
		!strings.Contains(tout.String(), "→ 200") {
		t.Fatalf("trigger: %q %v", tout.String(), err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("all exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("all did not shut down")
	}
}

// maintenance run creates the partitions ahead and reports what it did.
func TestMaintenanceRun(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	var out bytes.Buffer
	getenv := testGetenv(t, dsn, nil)
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "maintenance", "run"}, getenv, &out))
	if !strings.Contains(out.String(), "partitions dropped: (none)") || !strings.Contains(out.String(), "partitions created:") {
		t.Fatalf("maintenance output: %q", out.String())
	}
	if err := run(context.Background(), []string{"hookrelay", "maintenance"}, getenv, &out); err == nil {
		t.Fatal("maintenance without run accepted")
	}
}
