package config

import (
	"strings"
	"testing"
)

// Production refuses to start with /metrics open to anyone: it needs a
// token, or a separate listener (then the public one does not serve it).
func TestProductionMetricsNeedTokenOrSeparateListener(t *testing.T) {
	prod := map[string]string{"HOOKRELAY_ENV": "production", "HOOKRELAY_ENCRYPTION_KEYS": "k1:x"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range prod {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if _, err := Load(env(prod)); err == nil || !strings.Contains(err.Error(), "HOOKRELAY_METRICS_TOKEN: required in production") {
		t.Fatalf("production without a metrics token: %v", err)
	}
	c, err := Load(env(with("HOOKRELAY_METRICS_TOKEN", "s3cret")))
	if err != nil || !c.MetricsOnListen() {
		t.Fatalf("with a token: %v, on listen %v", err, c != nil && c.MetricsOnListen())
	}
	c, err = Load(env(with("HOOKRELAY_METRICS_LISTEN", "127.0.0.1:9090")))
	if err != nil || c.MetricsOnListen() {
		t.Fatalf("with a separate listener: %v; the public listener must not serve /metrics", err)
	}
	c, err = Load(env(nil))
	if err != nil || !c.MetricsOnListen() {
		t.Fatalf("local mode serves /metrics on the listener: %v", err)
	}
}
