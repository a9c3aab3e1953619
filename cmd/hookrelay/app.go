package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
	"github.com/hookrelay/hookrelay/worker"
)

// newLogger builds the one slog logger, JSON to stderr by default.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// bcryptCost is the password hashing cost (0: relay.DefaultBcryptCost).
// Only this package's tests lower it: under the race detector one hash at
// the default cost took 10-25 s.
var bcryptCost int

// deps are the long-lived connections of a process.
type deps struct {
	cfg         *config.Config
	log         *slog.Logger
	db          *bun.DB
	bookkeeping *sql.DB
	redis       asynq.RedisClientOpt
	rdb         *redis.Client
	aq          *asynq.Client
	insp        *asynq.Inspector
	relay       *relay.Relay
	// gate is the relay's endpoint gate; the dashboard reads circuits from it.
	gate *delivery.Gate
	// metrics is this process's collectors, on its own registry.
	metrics *metrics.Metrics
}

// openDeps connects to Postgres and Redis and builds the relay.
func openDeps(ctx context.Context, cfg *config.Config, needKeys bool) (*deps, error) {
	d := &deps{cfg: cfg, log: newLogger(cfg, os.Stderr)}
	if cfg.EncryptionKeys == "" && needKeys {
		return nil, errors.New("HOOKRELAY_ENCRYPTION_KEYS is not set (`make run` creates a local key in .local/encryption.key)")
	}
	var box *secret.Box
	if cfg.EncryptionKeys != "" {
		var err error
		if box, err = secret.ParseKeys(cfg.EncryptionKeys); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	d.db = db
	if d.bookkeeping, err = store.OpenBookkeeping(ctx, cfg.DatabaseURL); err != nil {
		d.close()
		return nil, err
	}
	d.redis = asynq.RedisClientOpt{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB}
	d.rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB})
	d.aq = asynq.NewClientFromRedisClient(d.rdb)
	d.insp = asynq.NewInspectorFromRedisClient(d.rdb)
	sched, err := delivery.ParseSchedule(cfg.RetrySchedule)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("HOOKRELAY_RETRY_SCHEDULE: %w", err)
	}
	d.metrics = metrics.New(prometheus.NewRegistry())
	guard := delivery.NewGuard(cfg.AllowCIDRs)
	client := delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/" + version,
		MaxResponseBytes: cfg.ResponseBodyLimit})
	d.relay = relay.New(relay.Deps{Store: store.New(db).WithBookkeeping(d.bookkeeping), Box: box, Enqueuer: d.aq, Inspector: d.insp,
		Client: client, Guard: guard, Logger: d.log, LoginLimiter: relay.NewRedisLimiter(d.rdb),
		Gate: d.newGate(gateOptions(cfg)), Metrics: d.metrics, Waker: relay.NewRedisWaker(d.rdb)},
		relay.Options{MaxBodyBytes: cfg.MaxBodyBytes, StripeTolerance: cfg.StripeTolerance,
			DeliveryTimeout: cfg.DeliveryTimeout, RetrySchedule: sched, RetryJitter: cfg.RetryJitter,
			SweepGrace: cfg.SweepGrace, Version: version, AutoDisableAfter: cfg.AutoDisableAfter, SecretGrace: cfg.SecretGrace,
			BcryptCost: bcryptCost, TeamCreation: cfg.TeamCreation})
	d.metrics.Watch(metrics.Sources{Queues: d.insp, SweepLag: d.relay.SweepLag, Endpoints: d.relay.EndpointStates,
		RedisPersistence: redisPersistence(d.rdb)})
	return d, nil
}

// checkSchema refuses to run against a schema that is behind.
func (d *deps) checkSchema(ctx context.Context) error {
	m, err := migrations.NewMigrator(d.db)
	if err != nil {
		return err
	}
	return m.CheckCurrent(ctx)
}

// ensureOps points hookrelay's own notifications at HOOKRELAY_NOTIFY_URL.
// serve and worker may start together and race to create the internal
// team, so a conflict is retried.
func (d *deps) ensureOps(ctx context.Context) error {
	var err error
	for range 3 {
		if err = d.relay.EnsureOps(ctx, d.cfg.NotifyURL, d.cfg.NotifySecret); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// ready are the checks of /readyz: Postgres, Redis and schema.
func (d *deps) ready() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"postgres": d.db.PingContext,
		"redis":    func(ctx context.Context) error { return d.rdb.Ping(ctx).Err() },
		"schema":   d.checkSchema,
	}
}

// announceMode says at start which mode the process runs in, on stdout
// and in the log: local mode lets endpoints reach loopback, which a
// deployment must never do by accident (HOOKRELAY_ENV unset is local).
func announceMode(cfg *config.Config, cmd string, log *slog.Logger, stdout io.Writer) {
	cidrs := make([]string, len(cfg.AllowCIDRs))
	for i, p := range cfg.AllowCIDRs {
		cidrs[i] = p.String()
	}
	line := "mode=" + cfg.Env
	switch {
	case cfg.Env == config.EnvLocal && len(cidrs) > 0:
		line += ": loopback targets allowed (" + strings.Join(cidrs, ",") + "); set HOOKRELAY_ENV=production for a deployment"
	case len(cidrs) > 0:
		line += ": private targets allowed (" + strings.Join(cidrs, ",") + ")"
	}
	log.Info("starting", slog.String("command", cmd), slog.String("mode", cfg.Env), slog.Any("allow_cidrs", cidrs))
	fmt.Fprintf(stdout, "hookrelay %s: %s %s\n", version, cmd, line)
}

// gateOptions are the circuit breaker's settings from HOOKRELAY_BREAKER_*.
func gateOptions(cfg *config.Config) delivery.GateOptions {
	return delivery.GateOptions{BreakerThreshold: cfg.BreakerThreshold, BreakerMinDeliveries: cfg.BreakerMinDeliveries,
		BreakerFailureRate: cfg.BreakerFailureRatio, BreakerWindow: cfg.BreakerWindow,
		BreakerCooldown: cfg.BreakerCooldown, BreakerMaxCooldown: cfg.BreakerMaxCooldown}
}

// newGate builds the endpoint gate once, kept for the dashboard: the
// relay and the pages must share one instance.
func (d *deps) newGate(o delivery.GateOptions) *delivery.Gate {
	d.gate = delivery.NewGate(d.rdb, o)
	return d.gate
}

// close releases connections: Redis clients first, Postgres last.
func (d *deps) close() {
	if d.aq != nil {
		_ = d.aq.Close()
	}
	if d.insp != nil {
		_ = d.insp.Close()
	}
	if d.rdb != nil {
		_ = d.rdb.Close()
	}
	if d.bookkeeping != nil {
		_ = d.bookkeeping.Close()
	}
	if d.db != nil {
		_ = d.db.Close()
	}
}

// runServers runs serve, worker or both until ctx ends, then shuts down
// in order: stop taking requests, drain dispatch, drain the worker, close
// Redis, close Postgres.
func runServers(ctx context.Context, cfg *config.Config, mode string, stdout io.Writer) error {
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.checkSchema(ctx); err != nil {
		return err
	}
	if err := d.ensureOps(ctx); err != nil {
		return err
	}
	warnRedisRisks(ctx, d.rdb, d.log)
	announceMode(cfg, mode, d.log, stdout)
	if cfg.PprofListen != "" {
		ps, _, err := startPprof(cfg.PprofListen, d.log)
		if err != nil {
			return err
		}
		defer ps.Close()
	}
	if cfg.MetricsListen != "" {
		ms, err := metrics.Listen(cfg.MetricsListen, d.metrics.Handler(cfg.MetricsToken, d.log), d.log)
		if err != nil {
			return err
		}
		defer ms.Close()
	}
	errc := make(chan error, 2)
	var dispatcher *relay.Dispatcher
	var batcher *relay.Batcher
	var w *worker.Worker
	var app interface {
		Listen(string) error
		ShutdownWithTimeout(time.Duration) error
	}
	if mode == "serve" || mode == "all" {
		// One enqueuing goroutine: while its Redis round trip is out, the
		// next ingest batches queue up and go out grouped by endpoint in
		// the next Dispatch (a lone event goes at once). Four goroutines
		// made 2.6 deliveries per task under make bench, one makes 6: half
		// the Redis commands per event, fewer claims, lower end-to-end
		// latency.
		dispatcher = d.relay.NewDispatcher(1, 8192)
		// Four loops of up to 256 events: enough to keep a commit in flight
		// while the next batch fills (relay.FillWait, only under load).
		batcher = d.relay.NewBatcher(4, 256)
		dash := dashboard.New(dashboard.Deps{Relay: d.relay, Logger: d.log, PublicURL: cfg.PublicURL, Gate: d.gate,
			Production: cfg.Env == config.EnvProduction, InsecureCookies: cfg.InsecureCookies})
		queues := dashboard.NewQueueConsole(d.redis)
		defer queues.Close()
		a := api.New(api.Deps{Relay: d.relay, Dispatcher: dispatcher, Batcher: batcher, Logger: d.log, MaxBodyBytes: cfg.MaxBodyBytes,
			PublicURL: cfg.PublicURL, Ready: d.ready(), Metrics: d.metrics, MetricsToken: cfg.MetricsToken,
			NoMetricsRoute: !cfg.MetricsOnListen(), TrustedProxies: cfg.TrustedProxies, Mount: func(app *fiber.App) { dash.Mount(app); dash.MountQueues(app, queues) }})
		app = a
		go func() { errc <- a.Listen(cfg.Listen) }()
		d.log.Info("http_listening", "addr", cfg.Listen, "public_url", cfg.PublicURL)
		fmt.Fprintf(stdout, "hookrelay %s: listening on http://%s (dashboard %s/)\n", version, cfg.Listen, cfg.PublicURL)
	}
	if mode == "worker" || mode == "all" {
		w = worker.New(d.relay, d.redis, d.log, worker.Options{Concurrency: cfg.WorkerConcurrency, Wake: d.rdb,
			PollInterval: cfg.PollInterval, DelayedCheckInterval: time.Second, SweepInterval: cfg.SweepInterval,
			ShutdownTimeout: cfg.ShutdownTimeout, Retention: worker.RetentionOptions{Interval: cfg.MaintenanceInterval,
				Policy: relay.RetentionPolicy{Retention: cfg.Retention, PayloadRetention: cfg.PayloadRetention}}})
		if err := w.Start(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
		if err != nil && strings.Contains(err.Error(), "address already in use") {
			err = fmt.Errorf("listen %s: %w (set HOOKRELAY_LISTEN)", cfg.Listen, err)
		}
	}
	d.log.Info("shutting_down")
	if app != nil {
		if serr := app.ShutdownWithTimeout(cfg.ShutdownTimeout); serr != nil {
			d.log.Warn("http_shutdown", "error", serr.Error())
		}
		d.log.Info("http_stopped")
		batcher.Shutdown()
		dispatcher.Shutdown()
		d.log.Info("dispatch_drained")
	}
	if w != nil {
		w.Shutdown()
	}
	return err
}
