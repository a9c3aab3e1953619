package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Fixed names of the throwaway state the bench owns.
const (
	benchDB    = "hookrelay_bench"
	redisAddr  = "127.0.0.1:6379"
	redisDB    = 14
	stopGrace  = 10 * time.Second
	readyLimit = 30 * time.Second
	// slowMargin is added to the fairness scenario's slow answer for the
	// endpoint's timeout, so hookrelay waits for the answer.
	slowMargin = 10 * time.Second
	maxSlow    = 110 * time.Second // + slowMargin: hookrelay's longest endpoint timeout
)

// harness owns everything the bench creates: the database, the Redis DB,
// the sink and the hookrelay subprocess, and removes them in cleanup.
type harness struct {
	s           settings
	root        string   // module root, where bin/ lives
	binary      string   // hookrelay binary to run
	env         []string // environment of every hookrelay command
	passthrough []string // HOOKRELAY_* variables inherited from the caller
	pgVersion   string
	version     string // `hookrelay version` output
	dbCreated   bool
	baseURL     string
	sink        *sink
	cmd         *exec.Cmd
	exited      chan struct{} // closed when cmd has been waited for
	logPath     string
	token       string
	sourceID    string
	ingestURL   string
	secret      string
	statements  bool   // pg_stat_statements works in the bench database
	stmtNote    string // why it does not
	rss         *rssSampler
	rssStats    rssStats // hookrelay's memory, once stopServer stopped the sampler

	// redisClaimed: this bench flushed Redis DB 14 and may empty it at
	// the end; a bench that refused to start leaves another's DB alone.
	redisClaimed bool
}

// setUp performs steps 1–5: build, database, Redis, migrate, bootstrap,
// sink, subprocess, endpoint and source secret.
func (h *harness) setUp(ctx context.Context) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	h.root = root
	h.binary = h.s.Binary
	if h.binary == "" {
		h.binary = filepath.Join(h.root, "bin", "hookrelay")
		if err := h.build(ctx, h.binary); err != nil {
			return err
		}
	}
	if out, err := h.output(ctx, h.binary, "version"); err == nil {
		h.version = strings.TrimSpace(out)
	}
	if err := h.createDatabase(ctx); err != nil {
		return err
	}
	if err := redisFlush(ctx); err != nil {
		return err
	}
	h.redisClaimed = true
	port, err := freePort()
	if err != nil {
		return err
	}
	h.baseURL = "http://127.0.0.1:" + port
	if err := h.buildEnv(port); err != nil {
		return err
	}
	if err := h.command(ctx, h.binary, "migrate", "up"); err != nil {
		return err
	}
	if err := h.bootstrap(ctx); err != nil {
		return err
	}
	var delay time.Duration
	if h.s.Mode == "fairness" {
		delay = h.s.Slow // team A's endpoint: the bootstrap team's
	}
	if h.sink, err = startSink(delay); err != nil {
		return err
	}
	if err := h.startServer(ctx); err != nil {
		return err
	}
	var ep struct {
		ID string `json:"id"`
	}
	body := map[string]any{"url": h.sink.url, "source_ids": []string{h.sourceID}}
	if delay > 0 { // wait for the slow answer rather than time out and retry
		body["timeout_ms"] = (delay + slowMargin).Milliseconds()
	}
	if err := h.api(ctx, "/api/v1/endpoints", body, &ep); err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}
	var sec struct {
		Secrets []string `json:"secrets"`
	}
	if err := h.api(ctx, "/api/v1/sources/"+h.sourceID+"/secret/reveal", nil, &sec); err != nil {
		return fmt.Errorf("reveal source secret: %w", err)
	}
	if len(sec.Secrets) == 0 || !strings.HasPrefix(sec.Secrets[0], "whsec_") {
		return fmt.Errorf("reveal source secret: no whsec_ secret in %v", sec.Secrets)
	}
	h.secret = sec.Secrets[0]
	logf("endpoint %s → %s, source %s", ep.ID, h.sink.url, h.sourceID)
	return nil
}

// moduleRoot is the directory of the hookrelay module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("run the bench inside the hookrelay module (go env GOMOD: %v)", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// build compiles ./cmd/hookrelay to path, stamped with `git describe`.
func (h *harness) build(ctx context.Context, path string) error {
	logf("building %s", path)
	version := "dev"
	if out, err := h.output(ctx, "git", "describe", "--tags", "--always", "--dirty"); err == nil {
		version = strings.TrimSpace(out)
	}
	return h.command(ctx, "go", "build", "-ldflags", "-X main.version="+version, "-o", path, "./cmd/hookrelay")
}

// command runs a short hookrelay (or go) command in the module root and
// returns its output in the error when it fails.
func (h *harness) command(ctx context.Context, name string, args ...string) error {
	_, err := h.output(ctx, name, args...)
	return err
}

func (h *harness) output(ctx context.Context, name string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = h.root, h.env
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// createDatabase drops and recreates hookrelay_bench through the admin URL.
func (h *harness) createDatabase(ctx context.Context) error {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(h.s.AdminURL), pgdriver.WithTimeout(5*time.Second)))
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&h.pgVersion); err != nil {
		return fmt.Errorf("postgres admin connection (BENCH_DATABASE_ADMIN_URL): %w", err)
	}
	h.pgVersion, _, _ = strings.Cut(h.pgVersion, " ") // "15.20 (Debian …)" → "15.20"
	// Another bench (or its leftover hookrelay) still using the database
	// would be cut off by the drop below and both runs' numbers spoilt.
	var busy int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", benchDB).Scan(&busy); err != nil {
		return fmt.Errorf("pg_stat_activity: %w", err)
	}
	if busy > 0 {
		return fmt.Errorf("%s has %d open connections: another bench (or a hookrelay it left running) is using it; only one bench at a time", benchDB, busy)
	}
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+benchDB+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", benchDB, err)
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+benchDB); err != nil {
		return fmt.Errorf("create %s: %w", benchDB, err)
	}
	h.dbCreated = true
	logf("created database %s (Postgres %s)", benchDB, h.pgVersion)
	h.enableStatements(ctx)
	return nil
}

// dropDatabase removes hookrelay_bench; it runs even after Ctrl-C, so it
// uses its own short deadline.
func (h *harness) dropDatabase() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(h.s.AdminURL), pgdriver.WithTimeout(5*time.Second)))
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+benchDB+" WITH (FORCE)"); err != nil {
		logf("warning: drop %s: %v", benchDB, err)
		return
	}
	logf("dropped database %s", benchDB)
}

// buildEnv makes the subprocess environment: the caller's, minus anything
// the bench decides, plus the bench's settings.
func (h *harness) buildEnv(port string) error {
	u, err := url.Parse(h.s.AdminURL)
	if err != nil {
		return err
	}
	u.Path = "/" + benchDB
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	set := map[string]string{
		"HOOKRELAY_ENV":             "local",
		"HOOKRELAY_DATABASE_URL":    u.String(),
		"HOOKRELAY_REDIS_ADDR":      redisAddr,
		"HOOKRELAY_REDIS_DB":        fmt.Sprint(redisDB),
		"HOOKRELAY_LISTEN":          "127.0.0.1:" + port,
		"HOOKRELAY_PUBLIC_URL":      h.baseURL,
		"HOOKRELAY_ENCRYPTION_KEYS": "k1:" + base64.StdEncoding.EncodeToString(key),
		"HOOKRELAY_ALLOW_CIDRS":     "127.0.0.0/8",
		"HOOKRELAY_LOG_LEVEL":       "warn",
		"HOOKRELAY_LOG_FORMAT":      "json",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; ours {
			continue
		}
		if strings.HasPrefix(k, "HOOKRELAY_") {
			h.passthrough = append(h.passthrough, kv)
		}
		h.env = append(h.env, kv)
	}
	for k, v := range set {
		h.env = append(h.env, k+"="+v)
	}
	return nil
}

var (
	tokenRe  = regexp.MustCompile(`API token[^:]*:\s*(\S+)`)
	sourceRe = regexp.MustCompile(`\b(src_[0-9a-z]+)\b`)
	ingestRe = regexp.MustCompile(`(https?://\S+/in/in_\S+)`)
)

// bootstrap runs `hookrelay admin bootstrap` and parses the token, the
// Stripe source id and its ingest URL from what it prints.
func (h *harness) bootstrap(ctx context.Context) error {
	out, err := h.output(ctx, h.binary, "admin", "bootstrap")
	if err != nil {
		return err
	}
	t, s, i := tokenRe.FindStringSubmatch(out), sourceRe.FindStringSubmatch(out), ingestRe.FindStringSubmatch(out)
	if t == nil || s == nil || i == nil {
		return fmt.Errorf("admin bootstrap: cannot find token, src_ id and ingest URL in:\n%s", out)
	}
	h.token, h.sourceID, h.ingestURL = t[1], s[1], i[1]
	return nil
}
