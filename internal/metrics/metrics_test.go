package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.Ingested("src_1", metrics.Accepted, time.Millisecond)
	m.IngestBatch(3)
	m.Attempt("ep_1", metrics.Succeeded, time.Millisecond)
	m.Postponed("ep_1")
	m.Breaker("ep_1", metrics.BreakerOpen)
	m.Swept(2)
}

func TestRecordedMetricsAreExposed(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Ingested("src_1", metrics.Accepted, 3*time.Millisecond)
	m.Ingested("src_1", metrics.Accepted, 3*time.Millisecond)
	m.Ingested("src_1", metrics.Rejected, time.Millisecond)
	m.IngestBatch(5)
	m.Attempt("ep_1", metrics.Retrying, 20*time.Millisecond)
	m.Breaker("ep_1", metrics.BreakerOpen)
	m.Swept(2)
	expectLines(t, reg, `
hookrelay_events_received_total{outcome="accepted",source_id="src_1"} 2
hookrelay_events_received_total{outcome="rejected",source_id="src_1"} 1
hookrelay_endpoint_breaker_state{endpoint_id="ep_1"} 2
hookrelay_sweeper_requeued_total 2
`)
	expectLines(t, reg, `
hookrelay_ingest_duration_seconds_count{outcome="accepted"} 2
hookrelay_ingest_duration_seconds_bucket{outcome="accepted",le="0.005"} 2
hookrelay_ingest_duration_seconds_bucket{outcome="accepted",le="0.0025"} 0
hookrelay_ingest_batch_size_sum 5
hookrelay_delivery_attempts_total{endpoint_id="ep_1",outcome="retrying"} 1
hookrelay_delivery_attempt_duration_seconds_count{outcome="retrying"} 1
`)
	text := exposition(t, reg)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("%s missing", name)
		}
	}
}

func scrape(t *testing.T, h http.Handler, auth string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestHandlerToken(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	m.Swept(1)
	h := m.Handler("s3cret-token", nil)
	for _, auth := range []string{"", "Bearer wrong", "s3cret-token", "Basic s3cret-token"} {
		if code, _ := scrape(t, h, auth); code != http.StatusUnauthorized {
			t.Errorf("auth %q: %d, want 401", auth, code)
		}
	}
	code, body := scrape(t, h, "Bearer s3cret-token")
	if code != http.StatusOK || !strings.Contains(body, "hookrelay_sweeper_requeued_total 1") {
		t.Fatalf("with the token: %d %s", code, body)
	}
	if code, _ := scrape(t, m.Handler("", nil), ""); code != http.StatusOK {
		t.Fatalf("without a token configured: %d", code)
	}
}

// fakeQueues is a QueueInspector that can hang.
type fakeQueues struct {
	hang chan struct{}
	err  error
}

func (f *fakeQueues) Queues() ([]string, error) {
	if f.hang != nil {
		<-f.hang
	}
	return []string{"deliveries"}, f.err
}

func (f *fakeQueues) GetQueueInfo(q string) (*asynq.QueueInfo, error) {
	return &asynq.QueueInfo{Queue: q, Pending: 3, Retry: 1, Latency: 2 * time.Second, Paused: true}, nil
}

func TestScrapeCollectorTimeoutsAndErrors(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Watch(metrics.Sources{Queues: &fakeQueues{hang: hang}, Timeout: 50 * time.Millisecond,
		SweepLag: func(context.Context) (time.Duration, error) { return 0, errors.New("postgres down") }})
	start := time.Now()
	expectLines(t, reg, `
hookrelay_collector_up{collector="queues"} 0
hookrelay_collector_up{collector="sweeper_lag"} 0
`)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a hanging Redis held the scrape for %s", d)
	}
	// The first read is still stuck: the next scrape does not start another.
	if text := exposition(t, reg); strings.Contains(text, "hookrelay_queue_tasks") || strings.Contains(text, "sweeper_lag_seconds ") {
		t.Fatalf("series while the reads fail:\n%s", text)
	}
}

func TestScrapeCollectorValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Watch(metrics.Sources{Queues: &fakeQueues{},
		SweepLag: func(context.Context) (time.Duration, error) { return 90 * time.Second, nil }})
	expectLines(t, reg, `
hookrelay_queue_latency_seconds{queue="deliveries"} 2
hookrelay_queue_paused{queue="deliveries"} 1
hookrelay_sweeper_lag_seconds 90
`)
}

// TestQueueDepthFromRedis reads real asynq queues.
func TestQueueDepthFromRedis(t *testing.T) {
	opt := testenv.Redis(t)
	aq := asynq.NewClient(opt)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = aq.Close(); _ = insp.Close() })
	for i := range 3 {
		tk := task.NewDeliver(task.Deliver{DeliveryID: "dlv_" + string(rune('a'+i)), Attempt: 1}, "", time.Time{})
		if _, err := aq.Enqueue(tk); err != nil {
			t.Fatal(err)
		}
	}
	later := task.NewDeliver(task.Deliver{DeliveryID: "dlv_later", Attempt: 2}, "", time.Now().Add(time.Hour))
	if _, err := aq.Enqueue(later); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics.New(reg).Watch(metrics.Sources{Queues: insp})
	expectLines(t, reg, `
hookrelay_queue_tasks{queue="deliveries",state="active"} 0
hookrelay_queue_tasks{queue="deliveries",state="aggregating"} 0
hookrelay_queue_tasks{queue="deliveries",state="archived"} 0
hookrelay_queue_tasks{queue="deliveries",state="completed"} 0
hookrelay_queue_tasks{queue="deliveries",state="pending"} 3
hookrelay_queue_tasks{queue="deliveries",state="retry"} 0
hookrelay_queue_tasks{queue="deliveries",state="scheduled"} 1
hookrelay_collector_up{collector="queues"} 1
`)
}

// exposition is what a scrape of reg returns.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	_, body := scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), "")
	return body
}

// expectLines fails unless every line of want is a line of reg's exposition.
func expectLines(t *testing.T, reg *prometheus.Registry, want string) {
	t.Helper()
	text := exposition(t, reg)
	have := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		have[l] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(want), "\n") {
		if !have[l] {
			t.Errorf("missing %s", l)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", text)
	}
}
