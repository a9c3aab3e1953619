package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// syncBuffer is stdout for a command running in another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a long-lived command until the test ends and returns its
// stdout once it contains want (bounded wait).
func start(t *testing.T, args []string, getenv func(string) string, want string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v exited with %v", args, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%v did not shut down", args)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-done:
			t.Fatalf("%v exited early (%v); stdout %q", args, err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: stdout %q never said %q", args, out.String(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out
}

// serve, worker and all say at start whether they run in local mode (which
// lets endpoints reach loopback) or production. Production refuses to start
// with /metrics open to anyone; with a separate metrics listener and no
// token, the public listener does not serve /metrics at all.
func TestStartAnnouncesModeAndProductionGuardsMetrics(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	var out bytes.Buffer
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "up"}, testGetenv(t, dsn, nil), &out))

	start(t, []string{"hookrelay", "worker"}, testGetenv(t, dsn, nil), "worker mode=local: loopback targets allowed")

	prod := map[string]string{"HOOKRELAY_ENV": "production", "HOOKRELAY_PUBLIC_URL": "https://hookrelay.test"}
	// Bounded: a regression would start serving instead of failing.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"hookrelay", "serve"}, testGetenv(t, dsn, prod), &out)
	if err == nil || !strings.Contains(err.Error(), "HOOKRELAY_METRICS_TOKEN: required in production") {
		t.Fatalf("production without a metrics token or listener started: %v", err)
	}

	addr, maddr := freePort(t), freePort(t)
	prod["HOOKRELAY_LISTEN"], prod["HOOKRELAY_METRICS_LISTEN"] = addr, maddr
	so := start(t, []string{"hookrelay", "all"}, testGetenv(t, dsn, prod), "listening on")
	if !strings.Contains(so.String(), "all mode=production\n") {
		t.Errorf("stdout %q does not say mode=production", so.String())
	}
	// "listening on" is printed as the listener starts: wait for it to answer.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if status, _ := get(t, "http://"+addr+"/readyz", ""); status == http.StatusOK {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("never ready: %d", status)
		}
	}
	if status, body := get(t, "http://"+addr+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("public /metrics in production without a token: %d %.80s", status, body)
	}
	if status, body := get(t, "http://"+maddr+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("separate metrics listener: %d %.80s", status, body)
	}
}

// The container image and docker-compose run in production mode, with a
// metrics token: HOOKRELAY_ENV unset would be local mode.
func TestDeployFilesAreProduction(t *testing.T) {
	docker, err := os.ReadFile("../../deploy/Dockerfile")
	testenv.Must(t, err)
	if !strings.Contains("\n"+string(docker), "\nENV HOOKRELAY_ENV=production\n") {
		t.Error("deploy/Dockerfile does not set ENV HOOKRELAY_ENV=production")
	}
	compose, err := os.ReadFile("../../docker-compose.yml")
	testenv.Must(t, err)
	for _, want := range []string{"\n  HOOKRELAY_ENV: production\n", "\n  HOOKRELAY_METRICS_TOKEN: ${HOOKRELAY_METRICS_TOKEN:?"} {
		if !strings.Contains(string(compose), want) {
			t.Errorf("docker-compose.yml lacks %q", want)
		}
	}
}
