package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A process started with HOOKRELAY_PPROF_LISTEN serves net/http/pprof
// there (the worker here; serve and all share the same start-up code).
func TestPprofListen(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	paddr := freePort(t)
	getenv := testGetenv(t, dsn, map[string]string{"HOOKRELAY_PPROF_LISTEN": paddr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"hookrelay", "worker"}, getenv, &bytes.Buffer{}) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker exited with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("worker did not shut down")
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body := get(t, "http://"+paddr+"/debug/pprof/", "")
		if status == http.StatusOK && strings.Contains(body, "goroutine") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/debug/pprof/: %d %.200s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := get(t, "http://"+paddr+"/debug/pprof/cmdline", ""); status != http.StatusOK {
		t.Fatalf("/debug/pprof/cmdline: %d %s", status, body)
	}
}
