package config

import (
	"strings"
	"testing"
)

// Profiling is off unless set, binds to loopback when given a bare port,
// and production refuses a non-loopback address unless explicitly allowed.
func TestPprofListen(t *testing.T) {
	prod := map[string]string{"HOOKRELAY_ENV": "production", "HOOKRELAY_ENCRYPTION_KEYS": "k1:x", "HOOKRELAY_METRICS_TOKEN": "t"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	ok := []struct {
		env  map[string]string
		want string
	}{
		{nil, ""},
		{with(nil, "HOOKRELAY_PPROF_LISTEN", "6060"), "127.0.0.1:6060"},
		{with(nil, "HOOKRELAY_PPROF_LISTEN", ":6060"), "127.0.0.1:6060"},
		{with(prod, "HOOKRELAY_PPROF_LISTEN", "[::1]:6060"), "[::1]:6060"},
		{with(prod, "HOOKRELAY_PPROF_LISTEN", "localhost:6060"), "localhost:6060"},
		{with(nil, "HOOKRELAY_PPROF_LISTEN", "0.0.0.0:6060"), "0.0.0.0:6060"}, // local mode: the operator's machine
		{with(prod, "HOOKRELAY_PPROF_LISTEN", "10.0.0.5:6060", "HOOKRELAY_PPROF_ALLOW_REMOTE", "true"), "10.0.0.5:6060"},
	}
	for _, c := range ok {
		cfg, err := Load(env(c.env))
		if err != nil {
			t.Errorf("%v: %v", c.env, err)
		} else if cfg.PprofListen != c.want {
			t.Errorf("%v: got %q, want %q", c.env, cfg.PprofListen, c.want)
		}
	}
	bad := []map[string]string{
		with(prod, "HOOKRELAY_PPROF_LISTEN", "0.0.0.0:6060"),
		with(prod, "HOOKRELAY_PPROF_LISTEN", ":6060x:1"),
		with(prod, "HOOKRELAY_PPROF_LISTEN", "pprof.example.com:6060", "HOOKRELAY_PPROF_ALLOW_REMOTE", "yes"),
	}
	for _, e := range bad {
		if _, err := Load(env(e)); err == nil || !strings.Contains(err.Error(), "HOOKRELAY_PPROF_LISTEN") {
			t.Errorf("%v: want an HOOKRELAY_PPROF_LISTEN error, got %v", e, err)
		}
	}
}
