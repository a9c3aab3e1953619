package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// The test Redis runs with --save "" --appendonly no: the start-up check
// must say so, clearly, at warn level.
func TestWarnRedisRisksOnRealRedis(t *testing.T) {
	opt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	defer rdb.Close()
	ctx := context.Background()
	conf, err := rdb.ConfigGet(ctx, "*").Result()
	testenv.Must(t, err)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	risks := warnRedisRisks(ctx, rdb, log)
	noPersistence := conf["appendonly"] != "yes" && conf["save"] == ""
	evicting := conf["maxmemory-policy"] != "noeviction"
	if !noPersistence {
		t.Logf("this Redis persists (appendonly=%q save=%q): the warning is not expected", conf["appendonly"], conf["save"])
	}
	want := map[string]bool{"redis_no_persistence": noPersistence, "redis_evicting_maxmemory_policy": evicting}
	got := map[string]bool{}
	for _, r := range risks {
		got[r.Msg] = true
	}
	for msg, w := range want {
		if got[msg] != w {
			t.Errorf("%s: warned %v, want %v (config %v)", msg, got[msg], w, conf)
		}
		if w && !strings.Contains(buf.String(), `"level":"WARN","msg":"`+msg+`"`) {
			t.Errorf("no %s warning logged:\n%s", msg, buf.String())
		}
	}
}

// Managed Redis often refuses CONFIG: the check then stays quiet.
func TestWarnRedisRisksToleratesUnreadableConfig(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if risks := warnRedisRisks(context.Background(), rdb, log); risks != nil {
		t.Fatalf("risks without a readable config: %v", risks)
	}
	out := buf.String()
	if !strings.Contains(out, `"level":"DEBUG","msg":"redis_config_unreadable"`) || strings.Contains(out, "WARN") {
		t.Fatalf("want one debug line, got:\n%s", out)
	}
}

func TestRisksOf(t *testing.T) {
	cases := []struct {
		conf map[string]string
		want []string
	}{
		{map[string]string{"appendonly": "yes", "save": "", "maxmemory-policy": "noeviction"}, nil},
		{map[string]string{"appendonly": "no", "save": "3600 1", "maxmemory-policy": "noeviction"}, nil},
		{map[string]string{"appendonly": "no", "save": "", "maxmemory-policy": "noeviction"}, []string{"redis_no_persistence"}},
		{map[string]string{"appendonly": "yes", "save": "", "maxmemory-policy": "allkeys-lru"}, []string{"redis_evicting_maxmemory_policy"}},
		{map[string]string{"appendonly": "no", "save": "", "maxmemory-policy": "volatile-ttl"},
			[]string{"redis_no_persistence", "redis_evicting_maxmemory_policy"}},
	}
	for _, c := range cases {
		var got []string
		for _, r := range risksOf(c.conf) {
			got = append(got, r.Msg)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%v: got %v, want %v", c.conf, got, c.want)
		}
	}
}

// privateRedis starts a redis-server of the test's own (on a Unix socket,
// no persistence), so its settings can change without touching the
// shared one.
func privateRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed")
		}
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	testenv.Must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock})
	t.Cleanup(func() { _ = rdb.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("private redis-server did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return rdb
}

// TestRedisPersistenceGauge: hookrelay_redis_persistence follows a real
// Redis's settings at scrape time (0 with neither AOF nor RDB, 1 once
// either is on), and an unreachable Redis reports the collector down
// rather than a value.
func TestRedisPersistenceGauge(t *testing.T) {
	rdb := privateRedis(t)
	reg := prometheus.NewRegistry()
	metrics.New(reg).Watch(metrics.Sources{RedisPersistence: redisPersistence(rdb)})
	read := func(reg *prometheus.Registry) (persist, up string) {
		t.Helper()
		mfs, err := reg.Gather()
		testenv.Must(t, err)
		persist, up = "absent", "absent"
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				switch mf.GetName() {
				case "hookrelay_redis_persistence":
					persist = fmt.Sprint(m.GetGauge().GetValue())
				case "hookrelay_collector_up":
					up = fmt.Sprint(m.GetGauge().GetValue())
				}
			}
		}
		return persist, up
	}
	if p, up := read(reg); p != "0" || up != "1" {
		t.Fatalf("no AOF, no RDB: persistence %s, up %s", p, up)
	}
	ctx := context.Background()
	testenv.Must(t, rdb.ConfigSet(ctx, "save", "3600 1").Err())
	if p, _ := read(reg); p != "1" {
		t.Fatalf("RDB on: persistence %s", p)
	}
	testenv.Must(t, rdb.ConfigSet(ctx, "save", "").Err())
	testenv.Must(t, rdb.ConfigSet(ctx, "appendonly", "yes").Err())
	if p, _ := read(reg); p != "1" {
		t.Fatalf("AOF on: persistence %s", p)
	}

	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	reg = prometheus.NewRegistry()
	metrics.New(reg).Watch(metrics.Sources{RedisPersistence: redisPersistence(down)})
	if p, up := read(reg); p != "absent" || up != "0" {
		t.Fatalf("unreachable Redis: persistence %s, up %s", p, up)
	}
}
