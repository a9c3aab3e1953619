package dashboard_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// harness is one hookrelay app with the dashboard mounted, on real
// PostgreSQL and Redis, with a team to sign users into.
type harness struct {
	t       *testing.T
	db      *bun.DB
	redis   asynq.RedisClientOpt
	box     *secret.Box
	relay   *relay.Relay
	app     *fiber.App
	team    string
	limiter *fakeLimiter
	opts    relay.Options
	gate    *delivery.Gate // the dashboard's, for circuit states
}

// fakeLimiter allows attempts until blocked is set.
type fakeLimiter struct {
	mu      sync.Mutex
	blocked bool
	keys    []string
}

func (f *fakeLimiter) Allow(_ context.Context, key string, _ int) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return !f.blocked, nil
}

func newHarness(t *testing.T) *harness { t.Helper(); return newHarnessWith(t, nil) }

// newHarnessWith is newHarness with the relay options changed by opt.
func newHarnessWith(t *testing.T, opt func(*relay.Options)) *harness {
	t.Helper()
	db, _ := testenv.Postgres(t)
	h := &harness{t: t, db: db, redis: testenv.Redis(t), limiter: &fakeLimiter{}}
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	h.box = box
	aq := asynq.NewClient(h.redis)
	insp := asynq.NewInspector(h.redis)
	t.Cleanup(func() { _ = aq.Close(); _ = insp.Close() })
	h.opts = relay.Options{BcryptCost: 4, RetrySchedule: delivery.Schedule{100 * time.Millisecond}, DeliveryTimeout: 2 * time.Second,
		SweepGrace: 200 * time.Millisecond, Version: "test"}
	if opt != nil {
		opt(&h.opts)
	}
	h.relay = relay.New(relay.Deps{Store: store.New(db), Box: box, Enqueuer: aq, Inspector: insp,
		Guard: delivery.NewGuard(loopback), LoginLimiter: h.limiter}, h.opts)
	disp := h.relay.NewDispatcher(1, 100)
	t.Cleanup(disp.Shutdown)
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.Addr, DB: h.redis.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	h.gate = delivery.NewGate(rdb, delivery.GateOptions{})
	dash := dashboard.New(dashboard.Deps{Relay: h.relay, PublicURL: "https://hooks.example.test", Gate: h.gate})
	h.app = api.New(api.Deps{Relay: h.relay, Dispatcher: disp, MaxBodyBytes: 64 << 10,
		PublicURL: "https://hooks.example.test", Mount: dash.Mount})
	h.team = h.newTeam("Team A")
	return h
}

func (h *harness) ctx() context.Context { return context.Background() }

// newTeam creates a team directly in the store.
func (h *harness) newTeam(name string) string {
	t := &store.Team{ID: store.NewID("team"), Name: name}
	testenv.Must(h.t, store.New(h.db).CreateTeam(h.ctx(), t))
	return t.ID
}

const password = "correct horse battery"

// client is a browser signed in as a user.
type client struct {
	h      *harness
	user   *store.User
	cookie string
	csrf   string
}

// signIn creates a user with role in team (h.team when "") and logs in.
func (h *harness) signIn(role string, team ...string) *client {
	h.t.Helper()
	tid := h.team
	if len(team) > 0 {
		tid = team[0]
	}
	email := role + "-" + strings.ToLower(store.NewID("u")) + "@example.test"
	u, err := h.relay.CreateUser(h.ctx(), relay.SystemActor(tid), email, "", password, tid, role)
	testenv.Must(h.t, err)
	l, err := h.relay.Login(h.ctx(), email, password, "127.0.0.1", "test")
	testenv.Must(h.t, err)
	return &client{h: h, user: u, cookie: l.Token, csrf: l.Session.CSRFToken}
}

// anon is a visitor without a session.
func (h *harness) anon() *client { return &client{h: h} }

type response struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) response {
	c.h.t.Helper()
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "hookrelay_session", Value: c.cookie})
	}
	resp, err := c.h.app.Test(req, -1)
	testenv.Must(c.h.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func (c *client) get(path string) response {
	c.h.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// post submits a form with the session's CSRF token unless form sets _csrf.
func (c *client) post(path string, form url.Values) response {
	c.h.t.Helper()
	form = maps.Clone(form)
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// follow GETs the Location of a redirect with the cookies it set, as a
// browser would.
func (c *client) follow(r response) response {
	c.h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, r.header.Get("Location"), nil)
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.MaxAge >= 0 && ck.Value != "" {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	return c.do(req)
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%.2000s", r.status, status, r.body)
	}
}

func wantBody(t *testing.T, r response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Fatalf("body lacks %q:\n%.3000s", s, r.body)
		}
	}
}

func (h *harness) count(table, where string, args ...any) int {
	h.t.Helper()
	q := h.db.NewSelect().Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	n, err := q.Count(h.ctx())
	testenv.Must(h.t, err)
	return int(n)
}

func newForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
