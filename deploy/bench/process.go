package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startServer starts `hookrelay all` (or serve, BENCH_MODE), logging to a temporary file, and
// waits for /readyz.
func (h *harness) startServer(ctx context.Context) error {
	f, err := os.CreateTemp("", "hookrelay-bench-*.log")
	if err != nil {
		return err
	}
	h.logPath = f.Name()
	h.cmd = exec.Command(h.binary, h.s.subcommand())
	h.cmd.Dir, h.cmd.Env, h.cmd.Stdout, h.cmd.Stderr = h.root, h.env, f, f
	if err := h.cmd.Start(); err != nil {
		f.Close()
		return err
	}
	h.exited = make(chan struct{})
	go func() {
		_ = h.cmd.Wait()
		f.Close()
		close(h.exited)
	}()
	deadline := time.Now().Add(readyLimit)
	for {
		if err := h.get(ctx, "/readyz"); err == nil {
			logf("hookrelay %s (pid %d) ready on %s", h.s.subcommand(), h.cmd.Process.Pid, h.baseURL)
			h.rss = startRSS(h.cmd.Process.Pid, rssEvery)
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("hookrelay not ready after %s: %w", readyLimit, err)
		}
		select {
		case <-h.exited:
			return fmt.Errorf("hookrelay %s exited at start: %v", h.s.subcommand(), h.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopServer stops the memory sampler (h.rssStats), then sends SIGTERM,
// then SIGKILL after stopGrace. It is idempotent.
func (h *harness) stopServer() {
	if h.rss != nil {
		h.rssStats = h.rss.stop()
		h.rss = nil
	}
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	select {
	case <-h.exited:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(stopGrace):
		logf("hookrelay did not stop within %s: killing it", stopGrace)
		_ = h.cmd.Process.Kill()
		<-h.exited
	}
}

// cleanup stops the subprocess and the sink, drops the database and
// empties Redis DB 14 if this bench created and claimed them. It runs on
// every exit path.
func (h *harness) cleanup() {
	h.stopServer()
	if h.sink != nil {
		h.sink.close()
	}
	if h.dbCreated {
		h.dropDatabase()
	}
	if h.redisClaimed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := redisDo(ctx, []string{"FLUSHDB"}); err != nil {
			logf("warning: %v", err)
		}
	}
	if h.logPath != "" {
		_ = os.Remove(h.logPath)
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}
