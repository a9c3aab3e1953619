package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/stripefixture"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// startAll runs `hookrelay all` with getenv until the test ends, once it
// answers /readyz.
func startAll(t *testing.T, getenv func(string) string, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"hookrelay", "all"}, getenv, &bytes.Buffer{}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("all did not shut down")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The README's second-terminal command works after `make run`: that
// terminal has no HOOKRELAY_ENCRYPTION_KEYS (run-local.sh exports it only
// to the server), only .local/encryption.key in the working directory.
func TestTriggerFindsLocalKeyFile(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	addr := freePort(t)
	key := secret.NewKey("k1")
	server := testGetenv(t, dsn, map[string]string{"HOOKRELAY_LISTEN": addr, "HOOKRELAY_ENCRYPTION_KEYS": key})
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "up"}, server, &bytes.Buffer{}))
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "admin", "bootstrap"}, server, &bytes.Buffer{}))
	startAll(t, server, addr)

	second := func(k string) string {
		if k == "HOOKRELAY_ENCRYPTION_KEYS" {
			return "" // what the second terminal lacks
		}
		return server(k)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	var out bytes.Buffer
	err := run(context.Background(), []string{"hookrelay", "trigger", "payment_intent.succeeded"}, second, &out)
	if err == nil || !strings.Contains(err.Error(), ".local/encryption.key") {
		t.Fatalf("without a key file: %v (want a hint at the key file)", err)
	}
	testenv.Must(t, os.MkdirAll(filepath.Join(dir, ".local"), 0o700))
	testenv.Must(t, os.WriteFile(filepath.Join(dir, ".local", "encryption.key"), []byte(key+"\n"), 0o600))
	out.Reset()
	if err := run(context.Background(), []string{"hookrelay", "trigger", "payment_intent.succeeded"}, second, &out); err != nil ||
		!strings.Contains(out.String(), "payment_intent.succeeded http://"+addr+"/in/in_") || !strings.Contains(out.String(), "→ 200") {
		t.Fatalf("trigger: %q %v", out.String(), err)
	}
	// A production process never reads the local file.
	prod := func(k string) string {
		if k == "HOOKRELAY_ENV" {
			return "production"
		}
		return second(k)
	}
	if err := run(context.Background(), []string{"hookrelay", "trigger"}, prod, &out); err == nil ||
		!strings.Contains(err.Error(), "HOOKRELAY_ENCRYPTION_KEYS") {
		t.Fatalf("production used the local key file: %v", err)
	}
}

func TestTriggerList(t *testing.T) {
	var out bytes.Buffer
	getenv := func(string) string { return "" }
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "trigger", "--list"}, getenv, &out))
	if got := strings.Fields(out.String()); strings.Join(got, ",") != strings.Join(stripefixture.Types(), ",") ||
		len(got) < 11 {
		t.Fatalf("--list: %q", out.String())
	}
	err := run(context.Background(), []string{"hookrelay", "trigger", "customer.nope"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "--list") {
		t.Fatalf("unknown type: %v", err)
	}
}
