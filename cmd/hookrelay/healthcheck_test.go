package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck: the subcommand succeeds only on a 200 from the health
// URL; a 503, a refused connection and a missing worker listener fail.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := strings.Cut(addr, ":")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	check := func(getenv func(string) string, args ...string) error {
		var out bytes.Buffer
		return run(context.Background(), append([]string{"hookrelay", "healthcheck"}, args...), getenv, &out)
	}

	if err := check(env(nil), "--url", srv.URL+"/healthz"); err != nil {
		t.Fatalf("200: %v", err)
	}
	// Defaults: HOOKRELAY_LISTEN on all interfaces is probed on loopback;
	// --metrics probes the worker's listener.
	if err := check(env(map[string]string{"HOOKRELAY_LISTEN": "0.0.0.0:" + port})); err != nil {
		t.Fatalf("default from HOOKRELAY_LISTEN: %v", err)
	}
	if err := check(env(map[string]string{"HOOKRELAY_METRICS_LISTEN": ":" + port}), "--metrics"); err != nil {
		t.Fatalf("--metrics: %v", err)
	}
	if len(paths) != 3 || paths[1] != "/healthz" || paths[2] != "/healthz" {
		t.Fatalf("paths probed: %v", paths)
	}

	status = http.StatusServiceUnavailable
	if err := check(env(nil), "--url", srv.URL+"/healthz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503: %v", err)
	}
	if err := check(env(map[string]string{"HOOKRELAY_LISTEN": "127.0.0.1:" + port}), "--metrics"); err == nil ||
		!strings.Contains(err.Error(), "HOOKRELAY_METRICS_LISTEN") {
		t.Fatalf("--metrics without a metrics listener: %v", err)
	}
	refused := freePort(t)
	if err := check(env(map[string]string{"HOOKRELAY_LISTEN": refused})); err == nil {
		t.Fatal("refused connection: exit 0")
	}
}
