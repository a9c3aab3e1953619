package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

// get fetches url with an optional bearer token.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	testenv.Must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `all` serves /metrics on its listener and on HOOKRELAY_METRICS_LISTEN,
// both behind HOOKRELAY_METRICS_TOKEN; /readyz turns 503 while the schema
// is behind and 200 again after migrate up.
func TestMetricsListenersAndReadiness(t *testing.T) {
	_, dsn := testenv.Postgres(t)
	addr, maddr := freePort(t), freePort(t)
	const token = "metrics-token-for-the-test"
	getenv := testGetenv(t, dsn, map[string]string{"HOOKRELAY_LISTEN": addr, "HOOKRELAY_METRICS_LISTEN": maddr,
		"HOOKRELAY_METRICS_TOKEN": token})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"hookrelay", "all"}, getenv, &bytes.Buffer{}) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("all exited with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("all did not shut down")
		}
	}()
	waitStatus := func(url string, want int) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, body := get(t, url, "")
			if status == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %s, want %d", url, status, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitStatus("http://"+addr+"/readyz", http.StatusOK)
	for _, base := range []string{"http://" + addr, "http://" + maddr} {
		if status, _ := get(t, base+"/metrics", ""); status != http.StatusUnauthorized {
			t.Errorf("%s/metrics without the token: %d", base, status)
		}
		if status, _ := get(t, base+"/metrics", "wrong"); status != http.StatusUnauthorized {
			t.Errorf("%s/metrics with a wrong token: %d", base, status)
		}
		status, body := get(t, base+"/metrics", token)
		for _, want := range []string{"\ngo_goroutines ", "\nhookrelay_collector_up{collector=\"sweeper_lag\"} 1\n",
			"\nhookrelay_sweeper_lag_seconds 0\n"} {
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s/metrics: %d, lacks %q", base, status, want)
			}
		}
	}
	if status, _ := get(t, "http://"+maddr+"/healthz", ""); status != http.StatusOK {
		t.Errorf("metrics listener /healthz: %d", status)
	}

	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "down"}, getenv, &bytes.Buffer{}))
	if body := waitStatus("http://"+addr+"/readyz", http.StatusServiceUnavailable); !strings.Contains(body, "schema") {
		t.Errorf("readyz on an old schema: %s", body)
	}
	testenv.Must(t, run(context.Background(), []string{"hookrelay", "migrate", "up"}, getenv, &bytes.Buffer{}))
	waitStatus("http://"+addr+"/readyz", http.StatusOK)
}
