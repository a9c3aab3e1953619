package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// GateOptions tune endpoint isolation.
type GateOptions struct {
	// BreakerThreshold is how many failed attempts within BreakerWindow it
	// takes, at least, to open an endpoint's circuit (default 5).
	BreakerThreshold int
	// BreakerMinDeliveries is how many distinct deliveries must have been
	// attempted within BreakerWindow (default 10), and BreakerFailureRate
	// the share of them whose last attempt failed (default 0.5), for the
	// circuit to open: a few payloads that fail on their own, retried
	// again and again, never open it while the endpoint takes the others.
	BreakerMinDeliveries int
	BreakerFailureRate   float64
	// BreakerWindow is how far back attempts count (default 60 s).
	BreakerWindow time.Duration
	// BreakerCooldown is the first open period; each failed probe doubles
	// it up to BreakerMaxCooldown (defaults 30 s and 10 min).
	BreakerCooldown    time.Duration
	BreakerMaxCooldown time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Limits are an endpoint's isolation settings.
type Limits struct {
	EndpointID string
	// RatePerSecond caps requests per second (0: none).
	RatePerSecond int
	// MaxInFlight caps concurrent requests (0: none).
	MaxInFlight int
	// Lease bounds how long one request may count as in flight (a crashed
	// worker's slot frees itself after it).
	Lease time.Duration
}

// Verdict is the gate's answer for one attempt.
type Verdict struct {
	// Wait > 0: do not send now; try again after Wait (not a failure).
	Wait time.Duration
	// Reason says why the attempt waits ("rate limit", "circuit open", …).
	Reason string
	// Probe marks the one attempt let through a half-open circuit.
	Probe bool
	// Release frees the in-flight slots; call it after the attempts.
	Release func()
	// Granted is how many of the attempts asked for may start now
	// (AcquireN); the others wait Wait.
	Granted int
	// Clean says the endpoint had no failure streak, hold or probe when
	// asked: a success then has nothing to reset (see Report).
	Clean bool
}

// BreakerState is an endpoint's circuit state, for metrics and the UI.
type BreakerState string

// Circuit states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

// Gate isolates endpoints from each other across every worker, with state
// in Redis: a rate limit, a cap on requests in flight, and a circuit
// breaker that stops sending to an endpoint that keeps failing (or asked
// to slow down) and lets one probe through after a cool-down. Redis errors
// open the gate (deliveries go on), since Redis is only an accelerator.
type Gate struct {
	rdb redis.UniversalClient
	rl  *redis_rate.Limiter
	opt GateOptions
}

// NewGate returns a gate over rdb.
func NewGate(rdb redis.UniversalClient, opt GateOptions) *Gate {
	if opt.BreakerThreshold <= 0 {
		opt.BreakerThreshold = 5
	}
	if opt.BreakerMinDeliveries <= 0 {
		opt.BreakerMinDeliveries = 10
	}
	if opt.BreakerFailureRate <= 0 || opt.BreakerFailureRate > 1 {
		opt.BreakerFailureRate = 0.5
	}
	if opt.BreakerWindow <= 0 {
		opt.BreakerWindow = time.Minute
	}
	if opt.BreakerCooldown <= 0 {
		opt.BreakerCooldown = 30 * time.Second
	}
	if opt.BreakerMaxCooldown < opt.BreakerCooldown {
		opt.BreakerMaxCooldown = max(10*time.Minute, opt.BreakerCooldown)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Gate{rdb: rdb, rl: redis_rate.NewLimiter(rdb), opt: opt}
}

func key(id, part string) string { return "hookrelay:ep:" + id + ":" + part }

// Acquire decides whether an attempt to the endpoint may start now.
func (g *Gate) Acquire(ctx context.Context, l Limits) (Verdict, error) {
	return g.AcquireN(ctx, l, 1)
}

// AcquireN decides how many of n attempts to the endpoint may start now,
// in as few round trips as the endpoint's settings need: one (the circuit
// state) for an endpoint without limits, one more each for a rate limit and
// an in-flight cap. Granted of them may start; when Granted < n the rest
// wait Wait (Reason says why). A half-open circuit lets one probe through.
func (g *Gate) AcquireN(ctx context.Context, l Limits, n int) (Verdict, error) {
	v := Verdict{Release: func() {}}
	n = max(n, 1)
	asked := n
	now := g.opt.Now()
	vals, err := g.rdb.MGet(ctx, key(l.EndpointID, "hold"), key(l.EndpointID, "hold_reason"), key(l.EndpointID, "fails")).Result()
	if err != nil {
		return v, fmt.Errorf("gate: %w", err)
	}
	hold, _ := strconv.ParseInt(str(vals[0]), 10, 64)
	v.Clean = vals[0] == nil && vals[2] == nil
	if hold > now.UnixMilli() {
		v.Wait, v.Reason = time.Duration(hold-now.UnixMilli())*time.Millisecond, "circuit open: "+str(vals[1])
		return v, nil
	}
	if hold > 0 { // cool-down over: half-open, one probe at a time
		ok, err := g.rdb.SetNX(ctx, key(l.EndpointID, "probe"), 1, max(l.Lease, time.Second)).Result()
		if err != nil {
			return v, fmt.Errorf("gate: %w", err)
		}
		if !ok {
			v.Wait, v.Reason = time.Second, "circuit half-open: probe in flight"
			return v, nil
		}
		v.Probe, n = true, 1
		v.Wait, v.Reason = time.Second, "circuit half-open: one probe at a time"
	}
	if l.RatePerSecond > 0 {
		res, err := g.rl.AllowAtMost(ctx, key(l.EndpointID, "rate"), redis_rate.PerSecond(l.RatePerSecond), n)
		if err != nil {
			return v, fmt.Errorf("gate: %w", err)
		}
		if res.Allowed < n {
			v.Wait, v.Reason = max(res.RetryAfter, 10*time.Millisecond), "rate limit "+strconv.Itoa(l.RatePerSecond)+"/s"
		}
		if res.Allowed == 0 {
			g.endProbe(ctx, l.EndpointID, v.Probe)
			return v, nil
		}
		n = res.Allowed
	}
	if l.MaxInFlight > 0 {
		release, got, err := g.takeSlots(ctx, l, now, n)
		if err != nil {
			return v, err
		}
		if got < n {
			v.Wait, v.Reason = 200*time.Millisecond, "max "+strconv.Itoa(l.MaxInFlight)+" in flight"
		}
		if got == 0 {
			g.endProbe(ctx, l.EndpointID, v.Probe)
			return v, nil
		}
		n, v.Release = got, release
	}
	v.Granted = n
	if n == asked {
		v.Wait, v.Reason = 0, ""
	}
	return v, nil
}

// str reads an MGET value.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// GiveUpProbe frees a half-open circuit's probe slot unused (the worker
// found a better delivery to probe with), so the next attempt may probe.
func (g *Gate) GiveUpProbe(ctx context.Context, endpointID string) {
	g.endProbe(ctx, endpointID, true)
}

func (g *Gate) endProbe(ctx context.Context, id string, probe bool) {
	if probe {
		g.rdb.Del(ctx, key(id, "probe"))
	}
}

// takeSlots adds n members to the endpoint's in-flight set (scored by
// lease expiry, so slots of crashed workers expire) in one transaction,
// and gives back at once those beyond the cap. It returns how many it kept
// and the function releasing them.
func (g *Gate) takeSlots(ctx context.Context, l Limits, now time.Time, n int) (func(), int, error) {
	k := key(l.EndpointID, "inflight")
	lease := max(l.Lease, time.Second)
	members := make([]any, n)
	zs := make([]redis.Z, n)
	for i := range n {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		members[i] = hex.EncodeToString(b)
		zs[i] = redis.Z{Score: float64(now.Add(lease).UnixMilli()), Member: members[i]}
	}
	var card *redis.IntCmd
	_, err := g.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, k, "-inf", strconv.FormatInt(now.UnixMilli(), 10))
		p.ZAdd(ctx, k, zs...)
		card = p.ZCard(ctx, k)
		p.PExpire(ctx, k, lease)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("gate: %w", err)
	}
	got := n - int(max(card.Val()-int64(l.MaxInFlight), 0))
	got = max(got, 0)
	if got < n {
		g.rdb.ZRem(context.Background(), k, members[got:]...)
	}
	kept := members[:got]
	release := func() {
		if len(kept) > 0 {
			g.rdb.ZRem(context.Background(), k, kept...)
		}
	}
	return release, got, nil
}

// Outcome is what an attempt told the gate.
type Outcome struct {
	// DeliveryID names the delivery the attempt was for: the breaker
	// counts deliveries, so one payload failing again and again counts
	// once. Empty: the attempt counts as a delivery of its own.
	DeliveryID string
	Success    bool
	Status     int
	RetryAfter time.Duration
}

// slowDown reports statuses that ask the sender to back off.
func slowDown(status int) bool {
	return status == 429 || status == 502 || status == 503 || status == 504
}

// windowScript records one attempt in the endpoint's window: KEYS are the
// deliveries attempted (ZSET, scored by time), those whose last attempt
// failed (ZSET) and the failed-attempt counter; ARGV now (ms), window (ms),
// the delivery id and 1 for a failure. It drops what fell out of the
// window and returns {deliveries, failing deliveries, failed attempts}.
var windowScript = redis.NewScript(`
local now, w = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - w)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - w)
redis.call('ZADD', KEYS[1], now, ARGV[3])
local fails = 0
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], now, ARGV[3])
  fails = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], w)
else
  redis.call('ZREM', KEYS[2], ARGV[3])
  fails = tonumber(redis.call('GET', KEYS[3]) or '0')
end
redis.call('PEXPIRE', KEYS[1], w)
redis.call('PEXPIRE', KEYS[2], w)
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), fails}
`)

// Report feeds an attempt's outcome to the breaker and returns the state
// it leaves the endpoint in. The circuit opens on the endpoint's failure
// rate: within BreakerWindow, at least BreakerThreshold failed attempts,
// at least BreakerMinDeliveries distinct deliveries attempted, and the
// last attempt of at least BreakerFailureRate of them failed. A failed
// probe opens it again for a doubling cool-down; a good probe closes it
// and forgets the window. 429/502/503/504 and Retry-After hold the
// endpoint for that long whatever the rate.
func (g *Gate) Report(ctx context.Context, endpointID string, o Outcome, probe bool) (BreakerState, error) {
	now := g.opt.Now()
	if o.Success && probe {
		err := g.rdb.Del(ctx, key(endpointID, "fails"), key(endpointID, "level"), key(endpointID, "hold"),
			key(endpointID, "hold_reason"), key(endpointID, "probe"), key(endpointID, "seen"), key(endpointID, "failing")).Err()
		return BreakerClosed, err
	}
	id := o.DeliveryID
	if id == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = "a:" + hex.EncodeToString(b)
	}
	failed := "0"
	if !o.Success {
		failed = "1"
	}
	res, err := windowScript.Run(ctx, g.rdb, []string{key(endpointID, "seen"), key(endpointID, "failing"), key(endpointID, "fails")},
		now.UnixMilli(), g.opt.BreakerWindow.Milliseconds(), id, failed).Int64Slice()
	if err != nil || len(res) != 3 {
		return BreakerClosed, fmt.Errorf("gate: window: %v", err)
	}
	if o.Success {
		return BreakerClosed, nil
	}
	seen, failing, fails := res[0], res[1], res[2]
	var hold time.Duration
	reason := ""
	if probe || (fails >= int64(g.opt.BreakerThreshold) && seen >= int64(g.opt.BreakerMinDeliveries) &&
		float64(failing) >= g.opt.BreakerFailureRate*float64(seen)) {
		level, _ := g.rdb.Incr(ctx, key(endpointID, "level")).Result()
		cool := time.Duration(float64(g.opt.BreakerCooldown) * math.Pow(2, float64(max(level-1, 0))))
		hold = min(cool, g.opt.BreakerMaxCooldown)
		reason = fmt.Sprintf("%d of %d deliveries failing in the last %s", failing, seen, g.opt.BreakerWindow)
		if probe {
			reason = "probe failed"
		}
	}
	if slowDown(o.Status) || o.RetryAfter > 0 {
		if ra := min(max(o.RetryAfter, time.Second), MaxRetryAfter); ra > hold {
			hold, reason = ra, "endpoint answered "+strconv.Itoa(o.Status)
		}
	}
	if hold == 0 {
		g.endProbe(ctx, endpointID, probe)
		return BreakerClosed, nil
	}
	until := now.Add(hold).UnixMilli()
	ttl := hold + 24*time.Hour // the level outlives the hold, so repeat offenders back off longer
	_, err = g.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key(endpointID, "hold"), until, ttl)
		p.Set(ctx, key(endpointID, "hold_reason"), reason, ttl)
		p.Expire(ctx, key(endpointID, "level"), ttl)
		p.Del(ctx, key(endpointID, "probe"))
		return nil
	})
	if err != nil {
		return BreakerOpen, fmt.Errorf("gate: %w", err)
	}
	return BreakerOpen, nil
}

// State reads an endpoint's circuit state.
func (g *Gate) State(ctx context.Context, endpointID string) (BreakerState, time.Time, error) {
	hold, err := g.rdb.Get(ctx, key(endpointID, "hold")).Int64()
	if err == redis.Nil {
		return BreakerClosed, time.Time{}, nil
	}
	if err != nil {
		return BreakerClosed, time.Time{}, fmt.Errorf("gate: %w", err)
	}
	until := time.UnixMilli(hold)
	if g.opt.Now().Before(until) {
		return BreakerOpen, until, nil
	}
	return BreakerHalfOpen, until, nil
}
