package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// Settings every hookrelay process of the suite gets: fast sweeps and
// retries so that recovery fits in a test's time.
const (
	sweepInterval = 500 * time.Millisecond
	sweepGrace    = time.Second
	retrySchedule = "200ms,500ms,1s,2s,5s"
)

// stack is one hookrelay installation: its own Postgres and Redis, the
// binary, `serve` and `worker` as separate processes, and the sink.
type stack struct {
	t      *testing.T
	b      *box
	pg     *pgCluster
	redis  *redisServer
	db     *bun.DB // the test's own connection, for checks
	bin    string
	env    []string
	base   string // http://127.0.0.1:port of serve
	serve  *proc
	worker *proc
	sink   *sink

	token, sourceID, ingestURL, secret, endpointID string
}

var (
	tokenRe  = regexp.MustCompile(`API token[^:]*:\s*(\S+)`)
	sourceRe = regexp.MustCompile(`\b(src_[0-9A-Za-z]+)\b`)
	ingestRe = regexp.MustCompile(`(https?://\S+/in/in_\S+)`)
)

func newStack(t *testing.T) *stack {
	t.Helper()
	start := time.Now()
	b := newBox(t)
	s := &stack{t: t, b: b}
	// Build while the services start.
	built := make(chan error, 1)
	go func() { built <- s.build() }()
	s.redis = startRedis(b)
	s.pg = startPostgres(b)
	s.db = s.pg.open("hookrelay", "hookrelay")
	t.Cleanup(func() { _ = s.db.Close() })
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s.base = "http://127.0.0.1:" + strconv.Itoa(port)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.root,
		"HOOKRELAY_ENV=local",
		"HOOKRELAY_DATABASE_URL=" + s.pg.dsn("hookrelay", "hookrelay"),
		"HOOKRELAY_REDIS_ADDR=" + s.redis.addr(),
		"HOOKRELAY_LISTEN=127.0.0.1:" + strconv.Itoa(port),
		"HOOKRELAY_PUBLIC_URL=" + s.base,
		"HOOKRELAY_ENCRYPTION_KEYS=k1:" + base64.StdEncoding.EncodeToString(key),
		"HOOKRELAY_ALLOW_CIDRS=127.0.0.0/8",
		"HOOKRELAY_SWEEP_INTERVAL=" + sweepInterval.String(),
		"HOOKRELAY_SWEEP_GRACE=" + sweepGrace.String(),
		"HOOKRELAY_RETRY_SCHEDULE=" + retrySchedule,
		"HOOKRELAY_SHUTDOWN_TIMEOUT=5s",
		"HOOKRELAY_LOG_LEVEL=info",
		"HOOKRELAY_LOG_FORMAT=json",
	}
	if out, err := s.command("migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	out, err := s.command("admin", "bootstrap")
	if err != nil {
		t.Fatalf("admin bootstrap: %v\n%s", err, out)
	}
	tm, sm, im := tokenRe.FindStringSubmatch(out), sourceRe.FindStringSubmatch(out), ingestRe.FindStringSubmatch(out)
	if tm == nil || sm == nil || im == nil {
		t.Fatalf("admin bootstrap: no token, src_ id or ingest URL in:\n%s", out)
	}
	s.token, s.sourceID, s.ingestURL = tm[1], sm[1], im[1]

	s.sink = newSink(t)
	s.startServe(t)
	s.startWorker(t)
	t.Cleanup(func() {
		s.serve.kill()
		s.worker.kill()
		if t.Failed() {
			t.Logf("serve log tail:\n%s", tail(s.serve.log, 30))
			t.Logf("worker log tail:\n%s", tail(s.worker.log, 30))
			t.Logf("postgres log tail:\n%s", tail(filepath.Join(s.pg.dir, "postgres.log"), 20))
		}
	})

	var ep struct {
		ID string `json:"id"`
	}
	must(t, s.api("/api/v1/endpoints", map[string]any{"url": s.sink.url + "/hook", "source_ids": []string{s.sourceID}}, &ep))
	s.endpointID = ep.ID
	var sec struct {
		Secrets []string `json:"secrets"`
	}
	must(t, s.api("/api/v1/sources/"+s.sourceID+"/secret/reveal", nil, &sec))
	if len(sec.Secrets) == 0 || !strings.HasPrefix(sec.Secrets[0], "whsec_") {
		t.Fatalf("source secret reveal: %v", sec.Secrets)
	}
	s.secret = sec.Secrets[0]
	t.Logf("stack ready in %s: serve %s, Postgres :%d (%s), Redis %s, sink %s",
		time.Since(start).Round(time.Millisecond), s.base, s.pg.port, filepath.Base(filepath.Dir(s.pg.bindir)), s.redis.addr(), s.sink.url)
	return s
}

// build compiles cmd/hookrelay (without -race: the detector is for the
// test process) into the box.
// CHAOS_BINARY names a prebuilt binary to use instead.
func (s *stack) build() error {
	if bin := os.Getenv("CHAOS_BINARY"); bin != "" {
		abs, err := filepath.Abs(bin)
		s.bin = abs
		return err
	}
	s.bin = filepath.Join(s.b.root, "hookrelay")
	cmd := exec.Command("go", "build", "-o", s.bin, "./cmd/hookrelay")
	cmd.Dir = ".." // the module root: tests run in chaos/
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/hookrelay: %v\n%s", err, out.String())
	}
	return nil
}

// command runs a short hookrelay subcommand and returns its output.
func (s *stack) command(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env, cmd.Dir = s.env, s.b.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (s *stack) startServe(t *testing.T) {
	p, err := s.b.spawn("serve", filepath.Join(s.b.root, "serve.log"), s.env, s.bin, "serve")
	must(t, err)
	s.serve = p
	err = waitFor(30*time.Second, func() error {
		if p.exited() {
			return fmt.Errorf("serve exited:\n%s", tail(p.log, 20))
		}
		return s.ready()
	})
	must(t, err)
}

// ready is nil when serve answers /readyz with 200 (Postgres, Redis and
// schema all fine).
func (s *stack) ready() error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.base + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// startWorker starts `hookrelay worker` and waits for its start line.
func (s *stack) startWorker(t *testing.T) {
	logPath := filepath.Join(s.b.root, "worker.log")
	before := 0
	if b, err := os.ReadFile(logPath); err == nil {
		before = bytes.Count(b, []byte(`"worker_started"`))
	}
	p, err := s.b.spawn("worker", logPath, s.env, s.bin, "worker")
	must(t, err)
	s.worker = p
	err = waitFor(30*time.Second, func() error {
		if p.exited() {
			return fmt.Errorf("worker exited:\n%s", tail(p.log, 20))
		}
		b, _ := os.ReadFile(logPath)
		if bytes.Count(b, []byte(`"worker_started"`)) <= before {
			return fmt.Errorf("worker has not logged worker_started")
		}
		return nil
	})
	must(t, err)
}

// api POSTs JSON with the bootstrap token and decodes a 2xx answer.
func (s *stack) api(path string, in, out any) error {
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// count counts lines matching substr in a process log (e.g. how often the
// sweeper re-queued work).
func countInLog(path, substr string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(substr))
}
