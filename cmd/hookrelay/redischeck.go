package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisRisk is a Redis setting that puts queued tasks at risk.
type redisRisk struct {
	Msg    string // the log message, a stable key
	Detail string
}

// redisRisks reads Redis's persistence and eviction settings. Neither risk
// loses an acknowledged event (the sweeper rebuilds Redis from Postgres),
// but both turn a Redis restart or a full memory into delayed deliveries
// and a burst of re-enqueues. An error means CONFIG could not be read
// (managed Redis services often disable it).
func redisRisks(ctx context.Context, rdb redis.UniversalClient) ([]redisRisk, error) {
	conf := map[string]string{}
	for _, key := range []string{"appendonly", "save", "maxmemory-policy"} {
		m, err := rdb.ConfigGet(ctx, key).Result()
		if err != nil {
			return nil, err
		}
		conf[key] = m[key]
	}
	return risksOf(conf), nil
}

// risksOf judges Redis settings read with CONFIG GET.
func risksOf(conf map[string]string) []redisRisk {
	var risks []redisRisk
	if persistenceOff(conf) {
		risks = append(risks, redisRisk{"redis_no_persistence", "Redis has neither AOF (appendonly no) nor RDB " +
			"snapshots (save \"\"): a restart drops every queued task. The sweeper re-enqueues them from Postgres " +
			"after HOOKRELAY_SWEEP_GRACE, so deliveries are delayed, not lost. Use appendonly yes in production."})
	}
	if p := conf["maxmemory-policy"]; p != "noeviction" {
		risks = append(risks, redisRisk{"redis_evicting_maxmemory_policy", "maxmemory-policy is " + p +
			": when full, Redis may evict queued tasks and rate-limit and breaker state. Use noeviction."})
	}
	return risks
}

// redisPersistence reports whether Redis saves to disk (AOF, or RDB save
// points), the first risk redisRisks checks; it feeds the
// hookrelay_redis_persistence gauge at scrape time.
func redisPersistence(rdb redis.UniversalClient) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		conf := map[string]string{}
		for _, key := range []string{"appendonly", "save"} {
			m, err := rdb.ConfigGet(ctx, key).Result()
			if err != nil {
				return false, err
			}
			conf[key] = m[key]
		}
		return !persistenceOff(conf), nil
	}
}

// persistenceOff: neither AOF nor RDB snapshots.
func persistenceOff(conf map[string]string) bool {
	return conf["appendonly"] != "yes" && conf["save"] == ""
}

// warnRedisRisks logs a warning, at start, for each Redis setting that
// risks queued tasks; when CONFIG is unavailable it says so at debug level.
func warnRedisRisks(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) []redisRisk {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	risks, err := redisRisks(ctx, rdb)
	if err != nil {
		log.Debug("redis_config_unreadable", "error", err.Error())
		return nil
	}
	for _, r := range risks {
		log.Warn(r.Msg, "detail", r.Detail)
	}
	return risks
}
