package chaos

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// reaperLifetime bounds everything the suite starts even if the test
// binary is killed before its cleanups run: the reaper then stops the
// processes and removes the temporary directory.
const reaperLifetime = 30 * time.Minute

// box is the temporary root of one suite run: every process, data
// directory and log lives under it, and a detached reaper removes it all
// when the test process goes away without cleaning up.
type box struct {
	t    *testing.T
	root string
	pids string // file of process group ids, one a line, for the reaper

	mu sync.Mutex
}

func newBox(t *testing.T) *box {
	t.Helper()
	root, err := os.MkdirTemp("", "hookrelay-chaos-")
	must(t, err)
	// Postgres runs as another user and must traverse the root.
	must(t, os.Chmod(root, 0o755))
	b := &box{t: t, root: root, pids: filepath.Join(root, "pgids")}
	must(t, os.WriteFile(b.pids, nil, 0o644))
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("CHAOS_KEEP") != "" {
			t.Logf("CHAOS_KEEP: leaving %s", root)
			return
		}
		_ = os.RemoveAll(root)
	})
	b.startReaper()
	return b
}

// startReaper runs a detached shell that waits for the test process to
// exit (or reaperLifetime to pass) and then kills every recorded process
// group, stops the Postgres cluster and removes the root. A normal run
// kills the reaper in its last cleanup.
func (b *box) startReaper() {
	script := `
test_pid=$1 root=$2 limit=$3
i=0
while kill -0 "$test_pid" 2>/dev/null && [ "$i" -lt "$limit" ]; do sleep 1; i=$((i+1)); done
while read -r g; do [ -n "$g" ] && kill -KILL -- "-$g" 2>/dev/null; done < "$root/pgids"
if [ -f "$root/pg/data/postmaster.pid" ]; then
  pid=$(head -n1 "$root/pg/data/postmaster.pid"); [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
  sleep 2
fi
rm -rf "$root"
`
	cmd := exec.Command("/bin/sh", "-c", script, "chaos-reaper", strconv.Itoa(os.Getpid()), b.root,
		strconv.Itoa(int(reaperLifetime/time.Second)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	must(b.t, cmd.Start())
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	b.t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
}

func (b *box) recordPgid(pid int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := os.OpenFile(b.pids, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		fmt.Fprintln(f, pid)
		f.Close()
	}
}

// proc is a child process in its own process group, killed with its group.
type proc struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// spawn starts a child in a new process group that also dies with the
// test process (Pdeathsig); its output goes to logPath (appended).
func (b *box) spawn(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "\n===== %s start %s =====\n", name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, f, f, b.root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	b.recordPgid(cmd.Process.Pid)
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// kill sends SIGKILL to the process group and waits for the exit.
func (p *proc) kill() {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls ok every 50 ms until it returns nil or limit passes.
func waitFor(limit time.Duration, ok func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := ok()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------- Redis

// redisServer is a private, non-persistent Redis on a loopback port.
type redisServer struct {
	b    *box
	port int
	dir  string
	p    *proc
}

func startRedis(b *box) *redisServer {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		b.t.Fatalf("redis-server not found (deploy/local-services.sh installs it): %v", err)
	}
	r := &redisServer{b: b, port: freePort(b.t), dir: filepath.Join(b.root, "redis")}
	must(b.t, r.start(bin))
	b.t.Cleanup(func() { r.p.kill() })
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start(bin string) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	p, err := r.b.spawn("redis", filepath.Join(r.b.root, "redis.log"), []string{"PATH=" + os.Getenv("PATH")}, bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--protected-mode", "no", "--daemonize", "no")
	if err != nil {
		return err
	}
	r.p = p
	c := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: time.Second})
	defer c.Close()
	return waitFor(10*time.Second, func() error {
		if p.exited() {
			return errors.New("redis-server exited; see redis.log")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	})
}

// wipe kills Redis with SIGKILL, deletes its directory and starts an empty
// one on the same port: everything asynq held is gone.
func (r *redisServer) wipe(down time.Duration) error {
	r.p.kill()
	if err := os.RemoveAll(r.dir); err != nil {
		return err
	}
	time.Sleep(down)
	return r.start(r.p.cmd.Path)
}

// ------------------------------------------------------------- Postgres

// pgCluster is a private PostgreSQL cluster (initdb into the box), trust
// auth, on a loopback port and a socket in the box.
type pgCluster struct {
	b      *box
	bindir string
	dir    string // owned by the postgres user: data/, socket, log
	port   int
	asUser bool // run the binaries through runuser -u postgres
}

func startPostgres(b *box) *pgCluster {
	t := b.t
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("no /usr/lib/postgresql/*/bin/initdb (deploy/local-services.sh installs PostgreSQL)")
	}
	sort.Strings(bins)
	c := &pgCluster{b: b, bindir: filepath.Dir(bins[len(bins)-1]), dir: filepath.Join(b.root, "pg"),
		port: freePort(t), asUser: os.Geteuid() == 0}
	must(t, os.MkdirAll(c.dir, 0o755))
	if c.asUser {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		must(t, os.Chown(c.dir, uid, gid))
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// Cleanup runs even if start fails half-way.
	t.Cleanup(func() { _, _ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "-t", "20", "stop") })
	must(t, c.start())
	db := c.open("postgres", "postgres")
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{"CREATE ROLE hookrelay LOGIN", "CREATE DATABASE hookrelay OWNER hookrelay"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) run(name string, args ...string) (string, error) {
	bin := filepath.Join(c.bindir, name)
	var cmd *exec.Cmd
	if c.asUser {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// start starts the cluster and waits until it accepts connections.
func (c *pgCluster) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, c.dir)
	out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "postgres.log"), "-o", opts, "-w", "-t", "30", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return nil
}

// stop stops the cluster: mode "immediate" is a crash (recovery on the
// next start), "fast" a clean shutdown that aborts open transactions.
func (c *pgCluster) stop(mode string) error {
	out, err := c.run("pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "30", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

func (c *pgCluster) dsn(user, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", user, c.port, db)
}

// open connects the test process itself (for checks, never for load).
func (c *pgCluster) open(user, db string) *bun.DB {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.dsn(user, db)), pgdriver.WithTimeout(5*time.Second)))
	sqldb.SetMaxOpenConns(4)
	return bun.NewDB(sqldb, pgdialect.New())
}

// ------------------------------------------------------------ hookrelay

// tail returns the last n lines of a log file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
