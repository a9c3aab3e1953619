package config

import (
	"strings"
	"testing"
	"time"
)

// Unset, the breaker behaves as it always did (5 failed attempts, 10
// deliveries, half of them failing, 60 s, 30 s doubling up to 10 min).
func TestBreakerDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.BreakerThreshold != 5 || c.BreakerMinDeliveries != 10 || c.BreakerFailureRatio != 0.5 ||
		c.BreakerWindow != time.Minute || c.BreakerCooldown != 30*time.Second || c.BreakerMaxCooldown != 10*time.Minute {
		t.Fatalf("breaker defaults: threshold %d, min %d, ratio %g, window %s, cool-down %s up to %s", c.BreakerThreshold,
			c.BreakerMinDeliveries, c.BreakerFailureRatio, c.BreakerWindow, c.BreakerCooldown, c.BreakerMaxCooldown)
	}
}

func TestBreakerSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"HOOKRELAY_BREAKER_THRESHOLD": "20", "HOOKRELAY_BREAKER_MIN_DELIVERIES": "50",
		"HOOKRELAY_BREAKER_FAILURE_RATIO": "0.9", "HOOKRELAY_BREAKER_WINDOW": "5m", "HOOKRELAY_BREAKER_COOLDOWN": "1m",
		"HOOKRELAY_BREAKER_MAX_COOLDOWN": "1h"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BreakerThreshold != 20 || c.BreakerMinDeliveries != 50 || c.BreakerFailureRatio != 0.9 ||
		c.BreakerWindow != 5*time.Minute || c.BreakerCooldown != time.Minute || c.BreakerMaxCooldown != time.Hour {
		t.Fatalf("breaker settings not read: %+v", c)
	}
	red := map[string]string{}
	for _, kv := range c.Redacted() {
		red[kv[0]] = kv[1]
	}
	if red["HOOKRELAY_BREAKER_FAILURE_RATIO"] != "0.9" || red["HOOKRELAY_BREAKER_WINDOW"] != "5m0s" ||
		red["HOOKRELAY_BREAKER_MIN_DELIVERIES"] != "50" || red["HOOKRELAY_BREAKER_MAX_COOLDOWN"] != "1h0m0s" {
		t.Fatalf("hookrelay config shows %v", red)
	}
	// A first cool-down past 10 min raises the unset maximum with it.
	c, err = Load(env(map[string]string{"HOOKRELAY_BREAKER_COOLDOWN": "20m"}))
	if err != nil || c.BreakerMaxCooldown != 20*time.Minute {
		t.Fatalf("cool-down 20m: maximum %v, %v", c, err)
	}
}

// A value the gate would quietly replace by its default is refused at
// start, naming the variable.
func TestBreakerBadValuesRefused(t *testing.T) {
	for _, tc := range []struct{ k, v string }{
		{"HOOKRELAY_BREAKER_THRESHOLD", "0"},
		{"HOOKRELAY_BREAKER_THRESHOLD", "-3"},
		{"HOOKRELAY_BREAKER_THRESHOLD", "five"},
		{"HOOKRELAY_BREAKER_MIN_DELIVERIES", "0"},
		{"HOOKRELAY_BREAKER_MIN_DELIVERIES", "2.5"},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO", "0"},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO", "1.5"},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO", "50%"},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO", "NaN"},
		{"HOOKRELAY_BREAKER_WINDOW", "0s"},
		{"HOOKRELAY_BREAKER_WINDOW", "500ms"},
		{"HOOKRELAY_BREAKER_WINDOW", "60"},
		{"HOOKRELAY_BREAKER_COOLDOWN", "-1s"},
		{"HOOKRELAY_BREAKER_MAX_COOLDOWN", "10s"}, // below the 30 s cool-down
		{"HOOKRELAY_BREAKER_MAX_COOLDOWN", "forever"},
	} {
		_, err := Load(env(map[string]string{tc.k: tc.v}))
		if err == nil || !strings.Contains(err.Error(), tc.k) {
			t.Errorf("%s=%s: error %v, want one naming %s", tc.k, tc.v, err, tc.k)
		}
	}
	for _, ok := range []map[string]string{
		{"HOOKRELAY_BREAKER_THRESHOLD": "1", "HOOKRELAY_BREAKER_MIN_DELIVERIES": "1"},
		{"HOOKRELAY_BREAKER_FAILURE_RATIO": "1"},
		{"HOOKRELAY_BREAKER_WINDOW": "1s"},
		{"HOOKRELAY_BREAKER_COOLDOWN": "5m", "HOOKRELAY_BREAKER_MAX_COOLDOWN": "5m"},
	} {
		if _, err := Load(env(ok)); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
}
