package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// The shop, stripe-mock and hookrelay together: Checkout and the Payment
// Link go to Stripe's API (stripe-mock, which checks every parameter);
// `hookrelay trigger checkout.session.completed` goes through hookrelay
// to the shop, which verifies hookrelay's signature and fulfils the order;
// a redelivery by hookrelay is answered and fulfils nothing more.
func TestCheckoutThroughHookrelay(t *testing.T) {
	mock := startStripeMock(t)
	root, err := filepath.Abs("../../..")
	must(t, err)
	bin := filepath.Join(t.TempDir(), "hookrelay")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookrelay")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hookrelay: %v\n%s", err, out)
	}
	relayDB, appDB := newDatabase(t), newDatabase(t)
	redisAddr := startRedis(t)
	addr := freeAddr(t)
	work := t.TempDir() // hookrelay trigger runs here, as a second terminal would
	env := append(os.Environ(), "HOOKRELAY_DATABASE_URL="+relayDB, "HOOKRELAY_REDIS_ADDR="+redisAddr,
		"HOOKRELAY_ENCRYPTION_KEYS=k1:"+strings.Repeat("QUJD", 10)+"QUI=", "HOOKRELAY_LISTEN="+addr,
		"HOOKRELAY_PUBLIC_URL=http://"+addr, "HOOKRELAY_LOG_LEVEL=error", "HOOKRELAY_ENV=local",
		"HOOKRELAY_RETRY_SCHEDULE=1s")
	hookrelay := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hookrelay %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	hookrelay("migrate", "up")
	boot := hookrelay("admin", "bootstrap")
	token := regexp.MustCompile(`API token \(shown once, keep it\):\s+(\S+)`).FindStringSubmatch(boot)
	if token == nil {
		t.Fatalf("bootstrap said %q", boot)
	}
	srv := exec.Command(bin, "all")
	srv.Env, srv.Dir = env, work
	must(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() })
	waitFor(t, "hookrelay ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	api := func(method, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, "http://"+addr+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token[1])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	srcs := api("GET", "/sources", nil)["data"].([]any)
	srcID := srcs[0].(map[string]any)["id"].(string)

	// The shop, with its own database, behind a counter of webhook calls.
	var mu sync.Mutex
	calls := map[string][]int{} // webhook-id → statuses answered, counted once handled
	var shop *App
	shopSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		shop.ServeHTTP(rec, r)
		if r.URL.Path == "/webhooks" {
			mu.Lock()
			calls[r.Header.Get("Webhook-Id")] = append(calls[r.Header.Get("Webhook-Id")], rec.Code)
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer shopSrv.Close()
	ep := api("POST", "/endpoints", map[string]any{"url": shopSrv.URL + "/webhooks", "source_ids": []string{srcID},
		"event_types": []string{"checkout.session.completed"}})
	shop, err = NewApp(context.Background(), Config{DatabaseURL: appDB, StripeKey: "sk_test_shop", StripeAPIURL: mock,
		SigningSecret: ep["secret"].(string), PublicURL: shopSrv.URL})
	must(t, err)
	defer shop.Close()

	// Checkout: a session with line items and the success/cancel URLs.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(shopSrv.URL+"/checkout", map[string][]string{"quantity": {"2"}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Fatalf("checkout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noFollow.Get(shopSrv.URL + "/payment-link?email=jenny%2Brosen@example.com")
	must(t, err)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "prefilled_email=jenny%2Brosen%40example.com") {
		t.Fatalf("payment link: %d to %q", resp.StatusCode, loc)
	}

	// A paid session, through hookrelay: fulfilled once.
	out := hookrelay("trigger", "checkout.session.completed")
	if !strings.Contains(out, "→ 200") {
		t.Fatalf("trigger: %s", out)
	}
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(appDB)))
	defer db.Close()
	count := func(q string) int {
		var n int
		must(t, db.QueryRow(q).Scan(&n))
		return n
	}
	waitFor(t, "the order fulfilled", func() bool { return count("SELECT count(*) FROM orders") == 1 })
	events := api("GET", "/events?limit=10", nil)["data"].([]any)
	evID := events[0].(map[string]any)["id"].(string)

	// hookrelay redelivers (as after a timeout or a 5xx): same webhook-id,
	// answered, no second fulfilment.
	api("POST", "/events/"+evID+"/redeliver", nil)
	waitFor(t, "the redelivery handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls[evID]) == 2 })
	mu.Lock()
	if got := fmt.Sprint(calls[evID]); got != "[204 204]" {
		t.Fatalf("the shop answered %s", got)
	}
	mu.Unlock()
	if n := count("SELECT count(*) FROM orders"); n != 1 {
		t.Fatalf("%d orders after a redelivery", n)
	}
	// Another purchase is another order.
	hookrelay("trigger", "checkout.session.completed")
	waitFor(t, "the second order", func() bool { return count("SELECT count(*) FROM orders") == 2 })
	if n := count("SELECT count(*) FROM processed_events"); n != 2 {
		t.Fatalf("%d processed events", n)
	}
}

// A request hookrelay did not sign is refused and fulfils nothing.
func TestWebhookNeedsHookrelaySignature(t *testing.T) {
	appDB := newDatabase(t)
	shop, err := NewApp(context.Background(), Config{DatabaseURL: appDB, StripeKey: "sk_test_x",
		SigningSecret: "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", PublicURL: "http://shop.test"})
	must(t, err)
	defer shop.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/webhooks", strings.NewReader(`{"id":"evt_1","type":"checkout.session.completed"}`))
	req.Header.Set("Webhook-Id", "evt_1")
	req.Header.Set("Webhook-Timestamp", fmt.Sprint(time.Now().Unix()))
	req.Header.Set("Webhook-Signature", "v1,Zm9yZ2Vk")
	shop.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged: %d", rec.Code)
	}
	if got := PrefilledLink("https://buy.stripe.com/test_abc", "a+b@example.com"); got != "https://buy.stripe.com/test_abc?prefilled_email=a%2Bb%40example.com" {
		t.Fatalf("PrefilledLink = %s", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// need finds a program the test runs; missing, it fails in CI and skips elsewhere.
func need(t *testing.T, name string, alt ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range alt {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed (make test installs it: deploy/test-deps.sh, deploy/local-services.sh)", name)
	}
	t.Skipf("%s not installed", name)
	return ""
}

func startStripeMock(t *testing.T) string {
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	bin := need(t, "stripe-mock", filepath.Join(strings.TrimSpace(string(gopath)), "bin", "stripe-mock"))
	httpAddr := freeAddr(t)
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", freeAddr(t))
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + httpAddr
	waitFor(t, "stripe-mock", func() bool {
		req, _ := http.NewRequest("GET", base+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer sk_test_ready")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

// startRedis runs a private redis-server without persistence.
func startRedis(t *testing.T) string {
	bin := need(t, "redis-server")
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	stdout, _ := cmd.StdoutPipe()
	must(t, cmd.Start())
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(stdout)) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, "redis", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

// newDatabase creates an empty database on the local PostgreSQL (as the
// relay's tests do; HOOKRELAY_TEST_DATABASE_URL overrides the server) and
// drops it after the test.
func newDatabase(t *testing.T) string {
	base := os.Getenv("HOOKRELAY_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://hookrelay:hookrelay@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(base)))
	defer admin.Close()
	name := fmt.Sprintf("checkout_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		a := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(base)))
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return strings.Replace(base, "/postgres?", "/"+name+"?", 1)
}
