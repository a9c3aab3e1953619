// Package metrics holds hookrelay's Prometheus collectors: one Metrics
// struct per process, registered on a registry the caller owns (never the
// global default one), and the /metrics handler that serves it.
//
// Label values are ids hookrelay creates (source and endpoint ids) and
// small fixed sets (outcomes, queue names, task states): never a token, a
// URL, a header or anything a sender controls.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Ingest outcomes, the outcome label of hookrelay_events_received_total.
const (
	Accepted    = "accepted"
	Duplicate   = "duplicate"
	Rejected    = "rejected"  // bad or missing signature (401)
	Malformed   = "malformed" // verified but unreadable (400)
	Unavailable = "unavailable"
	NotFound    = "not_found"
	TooLarge    = "too_large"
	Replied     = "replied"      // a provider handshake answered directly (Slack url_verification)
	StoreFailed = "store_failed" // verified but refused by the database for its data (500)
)

// Attempt outcomes, the outcome label of hookrelay_delivery_attempts_total.
const (
	Succeeded = "succeeded"
	Retrying  = "retrying" // failed, another attempt is scheduled
	Failed    = "failed"   // failed, no attempt left
	Gone      = "gone"     // 410: the endpoint was disabled
)

// UnknownSource labels ingest requests whose token matches no source.
const UnknownSource = "unknown"

// Metrics are the collectors a hookrelay process updates. A nil *Metrics
// is valid and records nothing, so tests and tools need not build one.
type Metrics struct {
	reg *prometheus.Registry

	eventsReceived  *prometheus.CounterVec
	ingestDuration  *prometheus.HistogramVec
	ingestBatch     prometheus.Histogram
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	postponed       *prometheus.CounterVec
	breaker         *prometheus.GaugeVec
	swept           prometheus.Counter
	// unrecorded counts rejected requests over the per-source cap, answered
	// but not stored.
	unrecorded *prometheus.CounterVec
}

// New registers hookrelay's collectors, and the Go runtime and process
// collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		eventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_events_received_total",
			Help: "Ingest requests by source id and outcome (accepted, duplicate, rejected, malformed, unavailable, not_found, too_large, replied).",
		}, []string{"source_id", "outcome"}),
		ingestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookrelay_ingest_duration_seconds",
			Help: "Time from an ingest request's arrival to its answer (the commit included), by outcome.",
			// A commit with fsync takes milliseconds; a batch waits for the one before it.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		ingestBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookrelay_ingest_batch_size",
			Help:    "Events stored per ingest transaction (the batcher groups concurrent requests).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_delivery_attempts_total",
			Help: "Delivery attempts by endpoint id and outcome (succeeded, retrying, failed, gone).",
		}, []string{"endpoint_id", "outcome"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookrelay_delivery_attempt_duration_seconds",
			Help:    "Duration of outbound delivery requests, by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"outcome"}),
		postponed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_delivery_postponed_total",
			Help: "Attempts held back unsent by endpoint isolation (rate limit, in-flight cap, open circuit), by endpoint id.",
		}, []string{"endpoint_id"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookrelay_endpoint_breaker_state",
			Help: "Circuit breaker state per endpoint as last seen by this process: 0 closed, 1 half-open, 2 open.",
		}, []string{"endpoint_id"}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookrelay_sweeper_requeued_total",
			Help: "Deliveries the sweeper enqueued again because Redis did not have them.",
		}),
		unrecorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookrelay_rejected_unrecorded_total",
			Help: "Rejected ingest requests answered 401 but not stored, over the per-source cap of stored rejections per minute.",
		}, []string{"source_id"}),
	}
	reg.MustRegister(m.eventsReceived, m.ingestDuration, m.ingestBatch, m.attempts, m.attemptDuration,
		m.postponed, m.breaker, m.swept, m.unrecorded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the collectors are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Ingested records one ingest request and how long it took.
func (m *Metrics) Ingested(sourceID, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.eventsReceived.WithLabelValues(sourceID, outcome).Inc()
	m.ingestDuration.WithLabelValues(outcome).Observe(d.Seconds())
}

// RejectionUnrecorded counts a rejected request not stored (over the cap).
func (m *Metrics) RejectionUnrecorded(sourceID string) {
	if m == nil {
		return
	}
	m.unrecorded.WithLabelValues(sourceID).Inc()
}

// IngestBatch records how many events one transaction stored.
func (m *Metrics) IngestBatch(n int) {
	if m == nil {
		return
	}
	m.ingestBatch.Observe(float64(n))
}

// Attempt records one delivery attempt.
func (m *Metrics) Attempt(endpointID, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(endpointID, outcome).Inc()
	m.attemptDuration.WithLabelValues(outcome).Observe(d.Seconds())
}

// Postponed records an attempt the endpoint's gate held back.
func (m *Metrics) Postponed(endpointID string) {
	if m == nil {
		return
	}
	m.postponed.WithLabelValues(endpointID).Inc()
}

// Breaker states as gauge values.
const (
	BreakerClosed   = 0
	BreakerHalfOpen = 1
	BreakerOpen     = 2
)

// Breaker sets an endpoint's circuit state (BreakerClosed, BreakerHalfOpen
// or BreakerOpen).
func (m *Metrics) Breaker(endpointID string, state int) {
	if m == nil {
		return
	}
	m.breaker.WithLabelValues(endpointID).Set(float64(state))
}

// Swept records deliveries the sweeper enqueued again.
func (m *Metrics) Swept(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.swept.Add(float64(n))
}
