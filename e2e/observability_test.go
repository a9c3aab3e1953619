package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// logBuffer collects every log line of the test's components.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// observedEnv is an env whose API and worker share one metrics registry
// and log, as JSON at debug level, into a buffer.
func observedEnv(t *testing.T, o envOptions) (*env, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	o.logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.metrics = metrics.New(prometheus.NewRegistry())
	e := newEnv(t, o)
	insp := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = insp.Close() })
	o.metrics.Watch(metrics.Sources{Queues: insp, SweepLag: e.api.SweepLag})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return e, logs
}

// scrapeMetrics GETs /metrics from the API.
func (e *env) scrapeMetrics() string {
	e.t.Helper()
	resp, err := http.Get(e.baseURL + "/metrics")
	testenv.Must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// waitMetrics scrapes until every line of want is in the exposition.
func (e *env) waitMetrics(want ...string) string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := e.scrapeMetrics()
		have := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			have[l] = true
		}
		var missing []string
		for _, w := range want {
			if !have[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return text
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("metrics missing:\n%s\n\nexposition:\n%s", strings.Join(missing, "\n"), text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// After an ingest and deliveries, /metrics shows every counter moved with
// the source's and endpoints' ids, and the logs carry request and delivery
// ids but never a secret, an ingest token or a payload.
func TestMetricsAndLogsAfterIngestAndDelivery(t *testing.T) {
	t.Parallel()
	e, logs := observedEnv(t, envOptions{maxBody: 4096,
		gate: &delivery.GateOptions{BreakerThreshold: 1, BreakerMinDeliveries: 1, BreakerCooldown: time.Minute}})
	src := e.stripeSource()
	ok := &sink{}
	okSrv := httptest.NewServer(ok)
	defer okSrv.Close()
	down := &sink{statuses: []int{500}}
	downSrv := httptest.NewServer(down)
	defer downSrv.Close()
	ep, epSecret := e.endpoint(okSrv.URL, src)
	epDown, _ := e.endpoint(downSrv.URL, src)

	// A payload with a marker that must never reach a log line.
	const marker = "cus_PAYLOAD_MARKER_7f3a9c"
	body := bytes.Replace(stripeEvent("evt_obs_1", "invoice.paid"), []byte(`"pi_1"`), []byte(`"`+marker+`"`), 1)
	status, resp := e.postStripe(src, body, stripeSecret, time.Now())
	if status != 200 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	if status, _ := e.postStripe(src, body, stripeSecret, time.Now()); status != 200 {
		t.Fatalf("duplicate: %d", status)
	}
	if status, _ := e.postStripe(src, body, "whsec_wrong_secret_for_this_test", time.Now()); status != 401 {
		t.Fatalf("bad signature: %d", status)
	}
	if status, _ := e.postStripe(src, []byte(marker), stripeSecret, time.Now()); status != 400 {
		t.Fatalf("malformed: %d", status)
	}
	if status, _ := e.post("/in/in_no_such_token", body, nil); status != 404 {
		t.Fatalf("unknown token: %d", status)
	}
	if status, _ := e.post("/in/"+src.IngestToken, bytes.Repeat([]byte(marker), 400), nil); status != 413 {
		t.Fatalf("too large: %d", status)
	}
	evt := resp["id"].(string)
	e.waitDelivery(evt, ep.ID, "succeeded")

	e.waitMetrics(
		`hookrelay_events_received_total{outcome="accepted",source_id="`+src.ID+`"} 1`,
		`hookrelay_events_received_total{outcome="duplicate",source_id="`+src.ID+`"} 1`,
		`hookrelay_events_received_total{outcome="rejected",source_id="`+src.ID+`"} 1`,
		`hookrelay_events_received_total{outcome="malformed",source_id="`+src.ID+`"} 1`,
		`hookrelay_events_received_total{outcome="too_large",source_id="`+src.ID+`"} 1`,
		`hookrelay_events_received_total{outcome="not_found",source_id="unknown"} 1`,
		`hookrelay_ingest_duration_seconds_count{outcome="accepted"} 1`,
		`hookrelay_ingest_batch_size_sum 2`, // the event and its duplicate, one transaction each
		`hookrelay_delivery_attempts_total{endpoint_id="`+ep.ID+`",outcome="succeeded"} 1`,
		`hookrelay_delivery_attempts_total{endpoint_id="`+epDown.ID+`",outcome="retrying"} 1`,
		`hookrelay_delivery_attempt_duration_seconds_count{outcome="succeeded"} 1`,
		// One failure opens the failing endpoint's circuit; the other stays closed.
		`hookrelay_endpoint_breaker_state{endpoint_id="`+epDown.ID+`"} 2`,
		`hookrelay_endpoint_breaker_state{endpoint_id="`+ep.ID+`"} 0`,
		`hookrelay_collector_up{collector="queues"} 1`,
		`hookrelay_collector_up{collector="sweeper_lag"} 1`,
		`hookrelay_queue_tasks{queue="deliveries",state="active"} 0`,
		`hookrelay_sweeper_lag_seconds 0`,
	)

	out := logs.String()
	for name, secret := range map[string]string{"source secret": stripeSecret, "endpoint secret": epSecret,
		"wrong secret": "whsec_wrong_secret_for_this_test", "ingest token": src.IngestToken, "payload": marker,
		"unknown token": "in_no_such_token", "signature header": "v1="} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	// Every request has an access line with its route pattern and id, and
	// each attempt a line with its delivery id.
	var ingestLines, attemptLines int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %s", l)
		}
		switch m["msg"] {
		case "http_request":
			if m["route"] == "/in/:token" && m["request_id"] != "" && m["status"] != nil && m["method"] == "POST" {
				ingestLines++
			}
		case "delivery_attempt":
			if m["delivery_id"] != "" && m["endpoint_id"] != nil {
				attemptLines++
			}
		}
	}
	if ingestLines != 5 || attemptLines < 2 {
		t.Fatalf("access lines for ingest: %d (want 5: the 413 is refused before routing), attempt lines: %d", ingestLines, attemptLines)
	}
}
