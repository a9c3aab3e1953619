package config

import (
	"fmt"
	"strconv"
	"time"
)

// Breaker defaults: today's behaviour, which production keeps unless an
// operator says otherwise.
const (
	DefaultBreakerThreshold     = 5
	DefaultBreakerMinDeliveries = 10
	DefaultBreakerFailureRatio  = 0.5
	DefaultBreakerWindow        = time.Minute
	DefaultBreakerCooldown      = 30 * time.Second
	DefaultBreakerMaxCooldown   = 10 * time.Minute
)

// loadBreaker reads the circuit breaker's settings (HOOKRELAY_BREAKER_*)
// and returns an error per bad value. Each must make sense on its own,
// since the gate would otherwise quietly put a default in its place: a
// threshold or minimum of 0, a ratio of 0 (any failure opens) or above 1
// (none ever does), a window under a second, a maximum below the first
// cool-down.
func (c *Config) loadBreaker(get func(k, def string) string) []error {
	var errs []error
	atLeastOne := func(k string, def int) int {
		v, err := strconv.Atoi(get(k, strconv.Itoa(def)))
		if err != nil || v < 1 {
			errs = append(errs, fmt.Errorf("%s: want a whole number of at least 1 (default %d)", k, def))
		}
		return v
	}
	dur := func(k string, def, least time.Duration) time.Duration {
		v, err := time.ParseDuration(get(k, def.String()))
		if err != nil || v < least {
			errs = append(errs, fmt.Errorf("%s: want a duration of at least %s like %s", k, least, def))
		}
		return v
	}
	c.BreakerThreshold = atLeastOne("HOOKRELAY_BREAKER_THRESHOLD", DefaultBreakerThreshold)
	c.BreakerMinDeliveries = atLeastOne("HOOKRELAY_BREAKER_MIN_DELIVERIES", DefaultBreakerMinDeliveries)
	r, err := strconv.ParseFloat(get("HOOKRELAY_BREAKER_FAILURE_RATIO", strconv.FormatFloat(DefaultBreakerFailureRatio, 'f', -1, 64)), 64)
	if err != nil || !(r > 0 && r <= 1) {
		errs = append(errs, fmt.Errorf("HOOKRELAY_BREAKER_FAILURE_RATIO: want a fraction above 0 and at most 1 (default %g: half the deliveries failing)",
			DefaultBreakerFailureRatio))
	}
	c.BreakerFailureRatio = r
	c.BreakerWindow = dur("HOOKRELAY_BREAKER_WINDOW", DefaultBreakerWindow, time.Second)
	c.BreakerCooldown = dur("HOOKRELAY_BREAKER_COOLDOWN", DefaultBreakerCooldown, time.Second)
	c.BreakerMaxCooldown = dur("HOOKRELAY_BREAKER_MAX_COOLDOWN", max(DefaultBreakerMaxCooldown, c.BreakerCooldown), time.Second)
	if c.BreakerCooldown > 0 && c.BreakerMaxCooldown < c.BreakerCooldown {
		errs = append(errs, fmt.Errorf("HOOKRELAY_BREAKER_MAX_COOLDOWN: %s is below HOOKRELAY_BREAKER_COOLDOWN (%s)",
			c.BreakerMaxCooldown, c.BreakerCooldown))
	}
	return errs
}
