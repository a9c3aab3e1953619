package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

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
