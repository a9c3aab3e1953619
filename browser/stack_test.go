package browser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/uptrace/bun"
)

// server is one `hookrelay all` process on its own database and Redis DB.
type server struct {
	base     string // http://127.0.0.1:PORT
	email    string // the owner account printed by admin bootstrap
	password string
	log      string  // path of the process's combined output
	db       *bun.DB // the server's database, for a test's setup and checks
}

var loginLine = regexp.MustCompile(`Dashboard login \(shown once\):\s+(\S+) / (\S+)`)

// startServer builds cmd/hookrelay, bootstraps a fresh database, starts
// `hookrelay all` in its own process group (killed at cleanup) and waits
// for /readyz. extraEnv (NAME=value) adds to or overrides its settings.
func startServer(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookrelay")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookrelay")
	build.Dir = ".." // the module root: tests run in browser/
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hookrelay: %v\n%s", err, out)
	}

	db, dsn := testenv.Postgres(t)
	rdb := testenv.Redis(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, log: filepath.Join(dir, "hookrelay.log"), db: db}
	env := append(os.Environ(),
		"HOOKRELAY_DATABASE_URL="+dsn,
		"HOOKRELAY_REDIS_ADDR="+rdb.Addr,
		"HOOKRELAY_REDIS_DB="+strconv.Itoa(rdb.DB),
		"HOOKRELAY_ENCRYPTION_KEYS=k1:"+base64.StdEncoding.EncodeToString(key),
		"HOOKRELAY_LISTEN="+addr,
		"HOOKRELAY_PUBLIC_URL="+s.base,
		"HOOKRELAY_LOG_FORMAT=text",
		// Two quick retries: a failing delivery settles as failed in seconds.
		"HOOKRELAY_RETRY_SCHEDULE=1s,1s",
		"HOOKRELAY_RETRY_JITTER=0",
	)
	env = append(env, extraEnv...) // the last of a name wins

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	boot := exec.CommandContext(ctx, bin, "admin", "bootstrap")
	boot.Env, boot.Dir = env, dir
	out, err := boot.CombinedOutput()
	if err != nil {
		t.Fatalf("hookrelay admin bootstrap: %v\n%s", err, out)
	}
	m := loginLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("admin bootstrap printed no dashboard login:\n%s", out)
	}
	s.email, s.password = string(m[1]), string(m[2])

	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "all")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, logf, logf
	// Own process group, so cleanup kills everything it started; Pdeathsig
	// covers a test binary that dies before its cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hookrelay all: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		logf.Close()
		if t.Failed() {
			t.Logf("hookrelay log tail:\n%s", tail(s.log, 40))
		}
	})
	if err := s.waitReady(exited); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitReady polls /readyz until it answers 200, the process exits, or 30 s pass.
func (s *server) waitReady(exited <-chan struct{}) error {
	c := http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("hookrelay all exited before it was ready:\n%s", tail(s.log, 30))
		default:
		}
		resp, err := c.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hookrelay not ready after 30s: %v\n%s", err, tail(s.log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
