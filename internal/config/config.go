// Package config loads hookrelay's one Config struct from HOOKRELAY_*
// environment variables, with defaults that work against a local PostgreSQL
// and Redis, and validates it so the process fails fast.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Env names the deployment mode.
const (
	EnvLocal      = "local"
	EnvProduction = "production"
)

// Config is every setting hookrelay reads. Field comments name the variable.
type Config struct {
	// Env is HOOKRELAY_ENV: "local" (default) allows loopback targets and a
	// missing encryption key is an error only in "production".
	Env string
	// DatabaseURL is HOOKRELAY_DATABASE_URL (pgdriver DSN).
	DatabaseURL string
	// RedisAddr is HOOKRELAY_REDIS_ADDR (host:port).
	RedisAddr string
	// RedisPassword is HOOKRELAY_REDIS_PASSWORD.
	RedisPassword string
	// RedisDB is HOOKRELAY_REDIS_DB.
	RedisDB int
	// Listen is HOOKRELAY_LISTEN, the HTTP address of serve/all.
	Listen string
	// PublicURL is HOOKRELAY_PUBLIC_URL, the base URL providers post to; it
	// builds ingest URLs and is what Twilio signs, so set it behind a proxy.
	PublicURL string
	// InsecureCookies is HOOKRELAY_INSECURE_COOKIES: in production the
	// dashboard's cookies are Secure (sent over https only) even when
	// PublicURL is http; true sends them over plain http too, for a
	// dashboard that browsers really reach without TLS. Default false.
	InsecureCookies bool
	// EncryptionKeys is HOOKRELAY_ENCRYPTION_KEYS: "kid:base64key,…", the
	// first is used to encrypt, all are tried to decrypt (re-keying).
	EncryptionKeys string
	// MaxBodyBytes is HOOKRELAY_MAX_BODY_BYTES, the ingest body limit.
	MaxBodyBytes int
	// StripeTolerance is HOOKRELAY_STRIPE_TOLERANCE, the signature age allowed.
	StripeTolerance time.Duration
	// DeliveryTimeout is HOOKRELAY_DELIVERY_TIMEOUT, the default per endpoint.
	DeliveryTimeout time.Duration
	// ResponseBodyLimit is HOOKRELAY_RESPONSE_BODY_LIMIT, bytes of an
	// endpoint's response kept on the attempt.
	ResponseBodyLimit int
	// RetrySchedule is HOOKRELAY_RETRY_SCHEDULE, the default delays between
	// attempts ("5s,5m,30m,2h,5h,10h,10h").
	RetrySchedule string
	// RetryJitter is HOOKRELAY_RETRY_JITTER, a fraction (0.2 = ±20 %).
	RetryJitter float64
	// AllowCIDRs is HOOKRELAY_ALLOW_CIDRS: address ranges the SSRF guard lets
	// through. Local mode defaults to loopback; production to none.
	AllowCIDRs []netip.Prefix
	// TrustedProxies is HOOKRELAY_TRUSTED_PROXIES: addresses or CIDRs of
	// the load balancers in front of serve. Only a request arriving from
	// one of them has its client address taken from X-Forwarded-For (sign-in
	// throttling and the audit log key on it); empty trusts none.
	TrustedProxies []string
	// TeamCreation is HOOKRELAY_TEAM_CREATION: who may create teams in the
	// dashboard, "owners" (owners of the first team, the default) or
	// "anyone" (every signed-in user).
	TeamCreation string
	// WorkerConcurrency is HOOKRELAY_WORKER_CONCURRENCY.
	WorkerConcurrency int
	// PollInterval is HOOKRELAY_POLL_INTERVAL: how often an idle worker asks
	// Redis for work. asynq's 1 s default made a lone event wait ~0.5 s.
	PollInterval time.Duration
	// SweepInterval is HOOKRELAY_SWEEP_INTERVAL: how often the sweeper
	// re-enqueues due deliveries missing from Redis.
	SweepInterval time.Duration
	// SweepGrace is HOOKRELAY_SWEEP_GRACE: how overdue a delivery must be
	// before the sweeper acts, so it does not race the normal path.
	SweepGrace time.Duration
	// ShutdownTimeout is HOOKRELAY_SHUTDOWN_TIMEOUT for draining requests and
	// in-flight deliveries.
	ShutdownTimeout time.Duration
	// SecretGrace is HOOKRELAY_SECRET_GRACE: how long a rotated-out source or
	// endpoint secret stays valid (accepted, or signed with) next to the new one.
	SecretGrace time.Duration
	// NotifyURL is HOOKRELAY_NOTIFY_URL: where hookrelay sends events about
	// itself (endpoint.disabled, delivery.exhausted, endpoint.recovered).
	NotifyURL string
	// NotifySecret is HOOKRELAY_NOTIFY_SECRET, the whsec_ secret those
	// notifications are signed with (Standard Webhooks).
	NotifySecret string
	// AutoDisableAfter is HOOKRELAY_AUTO_DISABLE_AFTER: an endpoint failing
	// this long without a success is disabled.
	AutoDisableAfter time.Duration
	// BreakerThreshold is HOOKRELAY_BREAKER_THRESHOLD: how many failed
	// attempts within BreakerWindow it takes, at least, to open an
	// endpoint's circuit (breaker.go reads every Breaker* setting).
	BreakerThreshold int
	// BreakerMinDeliveries is HOOKRELAY_BREAKER_MIN_DELIVERIES: how many
	// distinct deliveries must have been attempted within BreakerWindow
	// for the circuit to open, so a quiet endpoint is not judged on a few.
	BreakerMinDeliveries int
	// BreakerFailureRatio is HOOKRELAY_BREAKER_FAILURE_RATIO: the share of
	// those deliveries whose last attempt failed that opens the circuit.
	BreakerFailureRatio float64
	// BreakerWindow is HOOKRELAY_BREAKER_WINDOW: how far back attempts count.
	BreakerWindow time.Duration
	// BreakerCooldown is HOOKRELAY_BREAKER_COOLDOWN: the first open period
	// (it doubles per failed probe, up to BreakerMaxCooldown).
	BreakerCooldown time.Duration
	// BreakerMaxCooldown is HOOKRELAY_BREAKER_MAX_COOLDOWN: the longest
	// open period, however often probes fail.
	BreakerMaxCooldown time.Duration
	// Retention is HOOKRELAY_RETENTION: how long events, deliveries and
	// attempts are kept (whole UTC days are dropped; at least 24h).
	Retention time.Duration
	// PayloadRetention is HOOKRELAY_PAYLOAD_RETENTION: how long event
	// bodies are kept (default and at most Retention); keep it longer than
	// the retry schedule, or retries fail with "payload expired".
	PayloadRetention time.Duration
	// MaintenanceInterval is HOOKRELAY_MAINTENANCE_INTERVAL: how often the
	// worker runs the retention maintenance (also once at start).
	MaintenanceInterval time.Duration
	// MetricsListen is HOOKRELAY_METRICS_LISTEN: an extra address serving
	// /metrics (the worker has no other HTTP server); empty means none.
	// serve and all also serve /metrics on Listen, except in production
	// without a MetricsToken (then only here).
	MetricsListen string
	// MetricsToken is HOOKRELAY_METRICS_TOKEN: when set, /metrics requires
	// "Authorization: Bearer <token>". Production needs it unless
	// MetricsListen is set: the metrics list every team's ids.
	MetricsToken string
	// PprofListen is HOOKRELAY_PPROF_LISTEN: an address serving
	// net/http/pprof under /debug/pprof/; empty (the default) means off.
	// Loopback unless HOOKRELAY_PPROF_ALLOW_REMOTE=true (see pprofListen).
	PprofListen string
	// LogLevel is HOOKRELAY_LOG_LEVEL (debug, info, warn, error).
	LogLevel string
	// LogFormat is HOOKRELAY_LOG_FORMAT (json or text).
	LogFormat string
}

// DefaultListen is HOOKRELAY_LISTEN when unset.
const DefaultListen = "127.0.0.1:8080"

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (*Config, error) {
	get := func(k, def string) string { return cmp.Or(strings.TrimSpace(getenv(k)), def) }
	var errs []error
	c := &Config{
		Env:            get("HOOKRELAY_ENV", EnvLocal),
		DatabaseURL:    get("HOOKRELAY_DATABASE_URL", "postgres://hookrelay:hookrelay@127.0.0.1:5432/hookrelay?sslmode=disable"),
		RedisAddr:      get("HOOKRELAY_REDIS_ADDR", "127.0.0.1:6379"),
		RedisPassword:  getenv("HOOKRELAY_REDIS_PASSWORD"),
		Listen:         get("HOOKRELAY_LISTEN", DefaultListen),
		EncryptionKeys: getenv("HOOKRELAY_ENCRYPTION_KEYS"),
		RetrySchedule:  get("HOOKRELAY_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h"),
		LogLevel:       get("HOOKRELAY_LOG_LEVEL", "info"),
		NotifyURL:      strings.TrimSpace(getenv("HOOKRELAY_NOTIFY_URL")),
		NotifySecret:   strings.TrimSpace(getenv("HOOKRELAY_NOTIFY_SECRET")),
		LogFormat:      get("HOOKRELAY_LOG_FORMAT", "json"),
		MetricsListen:  strings.TrimSpace(getenv("HOOKRELAY_METRICS_LISTEN")),
		MetricsToken:   strings.TrimSpace(getenv("HOOKRELAY_METRICS_TOKEN")),
		TeamCreation:   strings.ToLower(get("HOOKRELAY_TEAM_CREATION", "owners")),
	}
	if c.TeamCreation != "owners" && c.TeamCreation != "anyone" {
		errs = append(errs, fmt.Errorf("HOOKRELAY_TEAM_CREATION: %q is neither owners nor anyone", c.TeamCreation))
	}
	c.PublicURL = strings.TrimRight(get("HOOKRELAY_PUBLIC_URL", "http://"+c.Listen), "/")
	if v := get("HOOKRELAY_INSECURE_COOKIES", "false"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, errors.New("HOOKRELAY_INSECURE_COOKIES: want true or false"))
		}
		c.InsecureCookies = b
	}
	intVar := func(k string, def int, dst *int) {
		v, err := strconv.Atoi(get(k, strconv.Itoa(def)))
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("%s: want a non-negative integer", k))
		}
		*dst = v
	}
	durVar := func(k string, def time.Duration, dst *time.Duration) {
		v, err := time.ParseDuration(get(k, def.String()))
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration like 5s", k))
		}
		*dst = v
	}
	intVar("HOOKRELAY_REDIS_DB", 0, &c.RedisDB)
	intVar("HOOKRELAY_MAX_BODY_BYTES", 1<<20, &c.MaxBodyBytes)
	intVar("HOOKRELAY_RESPONSE_BODY_LIMIT", 16<<10, &c.ResponseBodyLimit)
	intVar("HOOKRELAY_WORKER_CONCURRENCY", 50, &c.WorkerConcurrency)
	durVar("HOOKRELAY_STRIPE_TOLERANCE", 5*time.Minute, &c.StripeTolerance)
	durVar("HOOKRELAY_DELIVERY_TIMEOUT", 15*time.Second, &c.DeliveryTimeout)
	durVar("HOOKRELAY_POLL_INTERVAL", 10*time.Millisecond, &c.PollInterval)
	durVar("HOOKRELAY_SWEEP_INTERVAL", 15*time.Second, &c.SweepInterval)
	durVar("HOOKRELAY_SWEEP_GRACE", 30*time.Second, &c.SweepGrace)
	durVar("HOOKRELAY_SHUTDOWN_TIMEOUT", 20*time.Second, &c.ShutdownTimeout)
	durVar("HOOKRELAY_AUTO_DISABLE_AFTER", 5*24*time.Hour, &c.AutoDisableAfter)
	durVar("HOOKRELAY_SECRET_GRACE", 24*time.Hour, &c.SecretGrace)
	errs = append(errs, c.loadBreaker(get)...)
	durVar("HOOKRELAY_RETENTION", 30*24*time.Hour, &c.Retention)
	durVar("HOOKRELAY_PAYLOAD_RETENTION", c.Retention, &c.PayloadRetention)
	durVar("HOOKRELAY_MAINTENANCE_INTERVAL", time.Hour, &c.MaintenanceInterval)
	if c.Retention > 0 && c.Retention < 24*time.Hour {
		errs = append(errs, errors.New("HOOKRELAY_RETENTION: at least 24h (data is expired by the day)"))
	}
	if c.PayloadRetention > c.Retention {
		errs = append(errs, errors.New("HOOKRELAY_PAYLOAD_RETENTION: at most HOOKRELAY_RETENTION"))
	}
	if c.NotifyURL != "" && !strings.HasPrefix(c.NotifySecret, "whsec_") {
		errs = append(errs, errors.New("HOOKRELAY_NOTIFY_SECRET: required with HOOKRELAY_NOTIFY_URL, a whsec_ secret (hookrelay signs notifications with it)"))
	}
	j, err := strconv.ParseFloat(get("HOOKRELAY_RETRY_JITTER", "0.2"), 64)
	if err != nil || j < 0 || j >= 1 {
		errs = append(errs, errors.New("HOOKRELAY_RETRY_JITTER: want a fraction in [0, 1)"))
	}
	c.RetryJitter = j

	defAllow := ""
	if c.Env == EnvLocal {
		defAllow = "127.0.0.0/8,::1/128"
	}
	for _, s := range strings.Split(get("HOOKRELAY_ALLOW_CIDRS", defAllow), ",") {
		if s = strings.TrimSpace(s); s == "" || s == "none" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKRELAY_ALLOW_CIDRS: %q is not a CIDR", s))
			continue
		}
		c.AllowCIDRs = append(c.AllowCIDRs, p.Masked())
	}
	for _, s := range strings.Split(getenv("HOOKRELAY_TRUSTED_PROXIES"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				errs = append(errs, fmt.Errorf("HOOKRELAY_TRUSTED_PROXIES: %q is neither a CIDR nor an IP address", s))
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, s)
	}
	switch c.Env {
	case EnvLocal:
	case EnvProduction:
		if c.EncryptionKeys == "" {
			errs = append(errs, errors.New("HOOKRELAY_ENCRYPTION_KEYS: required in production (kid:base64 of 32 random bytes)"))
		}
		if c.MetricsToken == "" && c.MetricsListen == "" {
			errs = append(errs, errors.New("HOOKRELAY_METRICS_TOKEN: required in production (a long random string scrapers send as a bearer token), "+
				"unless HOOKRELAY_METRICS_LISTEN serves /metrics on a separate, private address"))
		}
	default:
		errs = append(errs, fmt.Errorf("HOOKRELAY_ENV: %q is neither local nor production", c.Env))
	}
	if c.MaxBodyBytes == 0 {
		errs = append(errs, errors.New("HOOKRELAY_MAX_BODY_BYTES: must be > 0"))
	}
	if c.PprofListen, err = pprofListen(getenv("HOOKRELAY_PPROF_LISTEN"), c.Env, getenv("HOOKRELAY_PPROF_ALLOW_REMOTE")); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// MetricsOnListen reports whether /metrics is served on Listen, the
// public HTTP listener: everywhere in local mode, and in production only
// behind the token (without one it is on MetricsListen alone).
func (c *Config) MetricsOnListen() bool { return c.Env != EnvProduction || c.MetricsToken != "" }

// Redacted returns the settings as name/value pairs with secrets masked, for
// `hookrelay config`.
func (c *Config) Redacted() [][2]string {
	mask := func(s string) string {
		if s == "" {
			return "(unset)"
		}
		return "(set, redacted)"
	}
	cidrs := make([]string, len(c.AllowCIDRs))
	for i, p := range c.AllowCIDRs {
		cidrs[i] = p.String()
	}
	return [][2]string{
		{"HOOKRELAY_ENV", c.Env},
		{"HOOKRELAY_DATABASE_URL", redactURL(c.DatabaseURL)},
		{"HOOKRELAY_REDIS_ADDR", c.RedisAddr},
		{"HOOKRELAY_TEAM_CREATION", c.TeamCreation},
		{"HOOKRELAY_REDIS_PASSWORD", mask(c.RedisPassword)},
		{"HOOKRELAY_REDIS_DB", strconv.Itoa(c.RedisDB)},
		{"HOOKRELAY_LISTEN", c.Listen},
		{"HOOKRELAY_PUBLIC_URL", c.PublicURL},
		{"HOOKRELAY_INSECURE_COOKIES", strconv.FormatBool(c.InsecureCookies)},
		{"HOOKRELAY_ENCRYPTION_KEYS", mask(c.EncryptionKeys)},
		{"HOOKRELAY_MAX_BODY_BYTES", strconv.Itoa(c.MaxBodyBytes)},
		{"HOOKRELAY_STRIPE_TOLERANCE", c.StripeTolerance.String()},
		{"HOOKRELAY_DELIVERY_TIMEOUT", c.DeliveryTimeout.String()},
		{"HOOKRELAY_RESPONSE_BODY_LIMIT", strconv.Itoa(c.ResponseBodyLimit)},
		{"HOOKRELAY_RETRY_SCHEDULE", c.RetrySchedule},
		{"HOOKRELAY_RETRY_JITTER", strconv.FormatFloat(c.RetryJitter, 'f', -1, 64)},
		{"HOOKRELAY_ALLOW_CIDRS", strings.Join(cidrs, ",")},
		{"HOOKRELAY_TRUSTED_PROXIES", strings.Join(c.TrustedProxies, ",")},
		{"HOOKRELAY_WORKER_CONCURRENCY", strconv.Itoa(c.WorkerConcurrency)},
		{"HOOKRELAY_POLL_INTERVAL", c.PollInterval.String()},
		{"HOOKRELAY_SWEEP_INTERVAL", c.SweepInterval.String()},
		{"HOOKRELAY_SWEEP_GRACE", c.SweepGrace.String()},
		{"HOOKRELAY_SHUTDOWN_TIMEOUT", c.ShutdownTimeout.String()},
		{"HOOKRELAY_SECRET_GRACE", c.SecretGrace.String()},
		{"HOOKRELAY_NOTIFY_URL", c.NotifyURL},
		{"HOOKRELAY_NOTIFY_SECRET", mask(c.NotifySecret)},
		{"HOOKRELAY_AUTO_DISABLE_AFTER", c.AutoDisableAfter.String()},
		{"HOOKRELAY_BREAKER_THRESHOLD", strconv.Itoa(c.BreakerThreshold)},
		{"HOOKRELAY_BREAKER_MIN_DELIVERIES", strconv.Itoa(c.BreakerMinDeliveries)},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO", strconv.FormatFloat(c.BreakerFailureRatio, 'f', -1, 64)},
		{"HOOKRELAY_BREAKER_WINDOW", c.BreakerWindow.String()},
		{"HOOKRELAY_BREAKER_COOLDOWN", c.BreakerCooldown.String()},
		{"HOOKRELAY_BREAKER_MAX_COOLDOWN", c.BreakerMaxCooldown.String()},
		{"HOOKRELAY_RETENTION", c.Retention.String()},
		{"HOOKRELAY_PAYLOAD_RETENTION", c.PayloadRetention.String()},
		{"HOOKRELAY_MAINTENANCE_INTERVAL", c.MaintenanceInterval.String()},
		{"HOOKRELAY_METRICS_LISTEN", c.MetricsListen},
		{"HOOKRELAY_METRICS_TOKEN", mask(c.MetricsToken)},
		{"HOOKRELAY_PPROF_LISTEN", c.PprofListen},
		{"HOOKRELAY_LOG_LEVEL", c.LogLevel},
		{"HOOKRELAY_LOG_FORMAT", c.LogFormat},
	}
}

// redactURL hides the password of a URL-shaped DSN.
func redactURL(s string) string {
	at := strings.LastIndex(s, "@")
	scheme := strings.Index(s, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return s
	}
	userinfo := s[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return s[:scheme+3] + userinfo[:i] + ":xxxxx" + s[at:]
	}
	return s
}
