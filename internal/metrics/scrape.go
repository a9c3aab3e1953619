package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueInspector reads asynq queue statistics; *asynq.Inspector satisfies it.
type QueueInspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// Sources are what is read from Redis and Postgres at scrape time rather
// than counted as it happens: both are shared by every process, so each
// scrape sees the installation's current state.
type Sources struct {
	// Queues reads asynq's queues (nil: no queue metrics).
	Queues QueueInspector
	// SweepLag returns the age of the oldest pending delivery overdue by
	// more than the sweep grace (0 when none is); nil: no lag metric.
	SweepLag func(ctx context.Context) (time.Duration, error)
	// Endpoints counts endpoints by state (disabled, paused, enabled) from
	// Postgres; nil: no endpoint gauge.
	Endpoints func(ctx context.Context) (map[string]int, error)
	// RedisPersistence reports whether Redis saves to disk (AOF or RDB
	// snapshots); nil: no persistence gauge. An error (CONFIG unreadable,
	// as on many managed services) reports the collector down.
	RedisPersistence func(ctx context.Context) (bool, error)
	// Timeout bounds each read, so a slow Redis or Postgres cannot hang a
	// scrape (default 2 s). A read that times out reports up 0.
	Timeout time.Duration
}

// Watch registers the scrape-time collectors for s.
func (m *Metrics) Watch(s Sources) {
	if s.Timeout <= 0 {
		s.Timeout = 2 * time.Second
	}
	m.reg.MustRegister(&scrapeCollector{src: s})
}

var (
	descQueueTasks = prometheus.NewDesc("hookrelay_queue_tasks",
		"Tasks in each asynq queue by state (pending, active, scheduled, retry, archived, completed, aggregating).",
		[]string{"queue", "state"}, nil)
	descQueueLatency = prometheus.NewDesc("hookrelay_queue_latency_seconds",
		"Age of the oldest pending task of each asynq queue.", []string{"queue"}, nil)
	descQueuePaused = prometheus.NewDesc("hookrelay_queue_paused",
		"1 when an asynq queue is paused.", []string{"queue"}, nil)
	descSweepLag = prometheus.NewDesc("hookrelay_sweeper_lag_seconds",
		"Age (since due) of the oldest pending delivery overdue by more than the sweep grace, read from Postgres at scrape time (0: none). "+
			"It grows when deliveries are neither in Redis nor being swept back, or when the queue is backlogged.", nil, nil)
	descEndpoints = prometheus.NewDesc("hookrelay_endpoints",
		"Endpoints of every team by state (disabled, paused, enabled), read from Postgres at scrape time.",
		[]string{"state"}, nil)
	descRedisPersistence = prometheus.NewDesc("hookrelay_redis_persistence",
		"1 when Redis saves to disk (appendonly yes, or RDB save points), read with CONFIG GET at scrape time. "+
			"0: a Redis restart drops every queued task (the sweeper rebuilds them from Postgres, later).", nil, nil)
	descUp = prometheus.NewDesc("hookrelay_collector_up",
		"1 when a scrape-time read (queues and redis_persistence from Redis, sweeper_lag and endpoints from Postgres) succeeded within its timeout.",
		[]string{"collector"}, nil)
)

// scrapeCollector reads queue depth and sweeper lag when Prometheus
// scrapes. Each read runs at most once at a time: while one is stuck past
// its timeout, later scrapes report it down instead of piling up.
type scrapeCollector struct {
	src       Sources
	queueBusy atomic.Bool
	lagBusy   atomic.Bool
	epBusy    atomic.Bool
	redisBusy atomic.Bool
}

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUp
	if c.src.Queues != nil {
		ch <- descQueueTasks
		ch <- descQueueLatency
		ch <- descQueuePaused
	}
	if c.src.SweepLag != nil {
		ch <- descSweepLag
	}
	if c.src.Endpoints != nil {
		ch <- descEndpoints
	}
	if c.src.RedisPersistence != nil {
		ch <- descRedisPersistence
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	if c.src.Queues != nil {
		wg.Go(func() { c.collectQueues(ch) })
	}
	if c.src.SweepLag != nil {
		wg.Go(func() { c.collectLag(ch) })
	}
	if c.src.Endpoints != nil {
		wg.Go(func() { c.collectEndpoints(ch) })
	}
	if c.src.RedisPersistence != nil {
		wg.Go(func() { c.collectRedisPersistence(ch) })
	}
	wg.Wait()
}

func up(ch chan<- prometheus.Metric, name string, ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, v, name)
}

func (c *scrapeCollector) collectQueues(ch chan<- prometheus.Metric) {
	infos, ok := runBounded(&c.queueBusy, c.src.Timeout, func() ([]*asynq.QueueInfo, error) {
		names, err := c.src.Queues.Queues()
		if err != nil {
			return nil, err
		}
		out := make([]*asynq.QueueInfo, 0, len(names))
		for _, q := range names {
			info, err := c.src.Queues.GetQueueInfo(q)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
		return out, nil
	})
	up(ch, "queues", ok)
	for _, q := range infos {
		for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled,
			"retry": q.Retry, "archived": q.Archived, "completed": q.Completed, "aggregating": q.Aggregating} {
			ch <- prometheus.MustNewConstMetric(descQueueTasks, prometheus.GaugeValue, float64(n), q.Queue, state)
		}
		ch <- prometheus.MustNewConstMetric(descQueueLatency, prometheus.GaugeValue, q.Latency.Seconds(), q.Queue)
		paused := 0.0
		if q.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(descQueuePaused, prometheus.GaugeValue, paused, q.Queue)
	}
}

func (c *scrapeCollector) collectLag(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	lag, ok := runBounded(&c.lagBusy, c.src.Timeout, func() (time.Duration, error) { return c.src.SweepLag(ctx) })
	up(ch, "sweeper_lag", ok)
	if ok {
		ch <- prometheus.MustNewConstMetric(descSweepLag, prometheus.GaugeValue, max(lag, 0).Seconds())
	}
}

func (c *scrapeCollector) collectEndpoints(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	states, ok := runBounded(&c.epBusy, c.src.Timeout, func() (map[string]int, error) { return c.src.Endpoints(ctx) })
	up(ch, "endpoints", ok)
	for state, n := range states {
		ch <- prometheus.MustNewConstMetric(descEndpoints, prometheus.GaugeValue, float64(n), state)
	}
}

func (c *scrapeCollector) collectRedisPersistence(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	on, ok := runBounded(&c.redisBusy, c.src.Timeout, func() (bool, error) { return c.src.RedisPersistence(ctx) })
	up(ch, "redis_persistence", ok)
	if ok {
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descRedisPersistence, prometheus.GaugeValue, v)
	}
}

// runBounded runs fn unless a previous run is still going, and waits for
// it at most timeout. asynq's Inspector takes no context, so a run that
// times out is left to finish on its own (go-redis's own timeouts end it).
func runBounded[T any](busy *atomic.Bool, timeout time.Duration, fn func() (T, error)) (T, bool) {
	var zero T
	if !busy.CompareAndSwap(false, true) {
		return zero, false
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		// Free the slot before answering: a scrape that follows at once
		// must not find this finished run still marked busy.
		busy.Store(false)
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err == nil
	case <-t.C:
		return zero, false
	}
}
