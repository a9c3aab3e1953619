package relay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// ErrLimiterDown means the sign-in throttle could not be reached. Sign-in
// fails closed: without the throttle, guessing passwords would be limited
// by nothing but bcrypt.
var ErrLimiterDown = errors.New("sign-in is temporarily unavailable, try again shortly")

// Limiter throttles by key: at most perMinute calls a minute for one key.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int) (bool, error)
}

// Sign-in limits. Guessing one account from one address is held to a few
// tries a minute; a looser cap per address stops spraying many accounts.
// Nothing is keyed by the account alone, so a stranger cannot lock a user
// out, and colleagues behind one proxy address do not share a budget.
const (
	loginPerAccountAddr = 10
	loginPerAddr        = 60
)

// throttleSignIn spends one attempt of email at ip, for the login form and
// the invite form alike (both check a password). ErrThrottled when a limit
// is reached, ErrLimiterDown when the limiter cannot answer.
func (r *Relay) throttleSignIn(ctx context.Context, email, ip string) error {
	if r.limiter == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	checks := []struct {
		key string
		n   int
	}{
		{"login:acct_ip:" + hex.EncodeToString(sum[:16]) + ":" + ip, loginPerAccountAddr},
		{"login:ip:" + ip, loginPerAddr},
	}
	for _, c := range checks {
		ok, err := r.limiter.Allow(ctx, c.key, c.n)
		if err != nil {
			r.log.Warn("login_limiter_unavailable", "error", err.Error())
			return fmt.Errorf("%w: %w", ErrLimiterDown, err)
		}
		if !ok {
			return ErrThrottled
		}
	}
	return nil
}

// RedisLimiter is a Limiter in Redis (GCRA, redis_rate), so every replica
// shares the counts. Errors are returned, never swallowed: the caller
// fails closed.
type RedisLimiter struct{ l *redis_rate.Limiter }

// NewRedisLimiter returns a Limiter over rdb.
func NewRedisLimiter(rdb *redis.Client) *RedisLimiter {
	return &RedisLimiter{l: redis_rate.NewLimiter(rdb)}
}

// Allow implements Limiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string, perMinute int) (bool, error) {
	res, err := l.l.Allow(ctx, "hookrelay:"+key, redis_rate.PerMinute(perMinute))
	if err != nil {
		return false, fmt.Errorf("relay: login limiter: %w", err)
	}
	return res.Allowed > 0, nil
}
