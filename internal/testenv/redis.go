package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Each test binary gets a Redis server of its own (redis-server on a free
// loopback port, nothing on disk), so packages testing in parallel never
// flush each other's queues. HOOKRELAY_TEST_REDIS_ADDR points the tests at
// an existing server instead.
var (
	redisOnce sync.Once
	redisAddr string
	redisErr  error
	redisMu   sync.Mutex
	redisNext int
	redisUsed [16]bool // databases held by running tests
)

// startRedis runs redis-server as a child that dies with the test binary:
// Pdeathsig fires when the thread that started it exits, so that thread
// is locked and kept alive for the life of the process.
func startRedis() (string, error) {
	if addr := os.Getenv("HOOKRELAY_TEST_REDIS_ADDR"); addr != "" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir, err := os.MkdirTemp("", "hookrelay-test-redis-")
	if err != nil {
		return "", err
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: Pdeathsig is per thread
		cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("testenv: start redis-server (apt-get install redis-server; `make test` does): %w", err)
			return
		}
		started <- nil
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
		select {} // keep the locked thread, and with it the child's lifeline
	}()
	if err := <-started; err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("testenv: redis-server on %s did not answer", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr, nil
}

// RedisAddr is the Redis server of this test binary.
func RedisAddr() string {
	redisOnce.Do(func() { redisAddr, redisErr = startRedis() })
	return redisAddr
}

// Redis returns connection options for a Redis database of this test's
// own (one of 1–15 of this binary's server that no running test holds,
// round robin, flushed first), released when the test ends. Parallel tests
// never share one.
func Redis(tb testing.TB) asynq.RedisClientOpt {
	tb.Helper()
	addr := RedisAddr()
	if redisErr != nil {
		tb.Fatalf("testenv: Redis unavailable: %v", redisErr)
	}
	db := 0
	for deadline := time.Now().Add(time.Minute); db == 0; time.Sleep(50 * time.Millisecond) {
		redisMu.Lock()
		for range 15 {
			redisNext = redisNext%15 + 1
			if !redisUsed[redisNext] {
				db = redisNext
				redisUsed[db] = true
				break
			}
		}
		redisMu.Unlock()
		if db == 0 && time.Now().After(deadline) {
			tb.Fatal("testenv: all 15 Redis databases held by running tests")
		}
	}
	tb.Cleanup(func() {
		redisMu.Lock()
		redisUsed[db] = false
		redisMu.Unlock()
	})
	opt := asynq.RedisClientOpt{Addr: addr, DB: db}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer rc.Close()
	if err := rc.FlushDB(ctx).Err(); err != nil {
		tb.Fatalf("testenv: Redis unavailable (run `make test`, which installs it): %v", err)
	}
	return opt
}
