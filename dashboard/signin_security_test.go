package dashboard_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// variant is the harness's database with another relay (limiter) and
// dashboard configuration: a second hookrelay process on the same data.
func (h *harness) variant(lim relay.Limiter, dd dashboard.Deps) *harness {
	h.t.Helper()
	rel := relay.New(relay.Deps{Store: store.New(h.db), Box: h.box, Guard: delivery.NewGuard(loopback), LoginLimiter: lim}, h.opts)
	dd.Relay = rel
	if dd.PublicURL == "" {
		dd.PublicURL = "https://hooks.example.test"
	}
	dash := dashboard.New(dd)
	v := *h
	v.relay = rel
	v.app = api.New(api.Deps{Relay: rel, MaxBodyBytes: 64 << 10, PublicURL: dd.PublicURL, Mount: dash.Mount})
	return &v
}

// redisLimiter is the production limiter on this test's own Redis database.
func redisLimiter(t *testing.T) relay.Limiter {
	opt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	return relay.NewRedisLimiter(rdb)
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	addr := l.Addr().String()
	testenv.Must(t, l.Close())
	return addr
}

// loginForm posts the login form as an anonymous browser with a valid
// double-submit CSRF token.
func loginForm(h *harness, email, pw, next string) response {
	h.t.Helper()
	tok := strings.Repeat("a", 43)
	req := newForm("/login", url.Values{"email": {email}, "password": {pw}, "_csrf": {tok}, "next": {next}})
	req.Header.Set("Cookie", "hookrelay_csrf="+tok)
	return h.anon().do(req)
}

// cookieAttrs returns the Set-Cookie line of name ("" when none).
func cookieLine(r response, name string) string {
	for _, ck := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, name+"=") {
			return ck
		}
	}
	return ""
}

// Item 2: ?next= is a same-origin path or "/"; nothing from it reaches a
// header but that path.
func TestLoginNextIsASameOriginPath(t *testing.T) {
	h := newHarness(t)
	c := h.signIn("member")
	bad := []string{
		"/%0aSet-Cookie:%20hookrelay_session=attacker%3b%20Path=/",
		"/%0d%0aSet-Cookie:%20hookrelay_session=attacker",
		"/%0dSet-Cookie:%20hookrelay_session=attacker",
		"/%09/other-host:18091/x",
		"/%00/x",
		"/%7f/x",
		"//evil.example/x",
		"/%5Cevil.example",
		"/%5C%5Cevil.example",
		"https://evil.example/",
		"javascript:alert(1)",
		"evil.example",
		"/%250aSet-Cookie:%20hookrelay_session=attacker", // decoded once more, still LF
		"/%252F%252Fevil.example",                        // decodes to //evil.example
		"",
	}
	for _, q := range bad {
		// A signed-in visitor of the login page is sent on at once.
		r := c.do(httptest.NewRequest(http.MethodGet, "/login?next="+q, nil))
		wantStatus(t, r, 303)
		if loc := r.header.Values("Location"); len(loc) != 1 || loc[0] != "/" {
			t.Errorf("GET next=%q: Location %q, want /", q, loc)
		}
		if ck := strings.Join(r.header.Values("Set-Cookie"), "\n"); strings.Contains(ck, "attacker") {
			t.Errorf("GET next=%q set a cookie from input: %q", q, ck)
		}
		// The form's next after a good password.
		raw, err := url.QueryUnescape(q)
		testenv.Must(t, err)
		r = loginForm(h, c.user.Email, password, raw)
		wantStatus(t, r, 303)
		if loc := r.header.Values("Location"); len(loc) != 1 || loc[0] != "/" {
			t.Errorf("POST next=%q: Location %q, want /", raw, loc)
		}
		for _, ck := range r.header.Values("Set-Cookie") {
			if strings.Contains(ck, "attacker") || !strings.HasPrefix(ck, "hookrelay_") {
				t.Errorf("POST next=%q: cookie from input %q", raw, ck)
			}
		}
	}
	// Local paths, queries included, are kept.
	for _, good := range []string{"/team", "/events?status=failed&source=src_1", "/events/evt_1"} {
		r := c.do(httptest.NewRequest(http.MethodGet, "/login?next="+url.QueryEscape(good), nil))
		if loc := r.header.Get("Location"); loc != good {
			t.Errorf("next=%q: Location %q", good, loc)
		}
	}
	// The page shown to a visitor carries the cleaned value only.
	r := h.anon().get("/login?next=/%0aSet-Cookie:%20x=attacker")
	wantStatus(t, r, 200)
	if strings.Contains(r.body, "attacker") {
		t.Fatal("login page kept the injected next")
	}
}

// Item 5: production cookies are Secure with an http public URL unless the
// operator opts out; the CSRF cookie too.
func TestCookiesSecureInProduction(t *testing.T) {
	h := newHarness(t)
	u := h.signIn("member").user
	for _, tc := range []struct {
		name   string
		deps   dashboard.Deps
		secure bool
	}{
		{"production, http", dashboard.Deps{Production: true, PublicURL: "http://127.0.0.1:8080"}, true},
		{"production, http, insecure cookies", dashboard.Deps{Production: true, InsecureCookies: true, PublicURL: "http://127.0.0.1:8080"}, false},
		{"local, http", dashboard.Deps{PublicURL: "http://127.0.0.1:8080"}, false},
		{"local, https", dashboard.Deps{PublicURL: "https://hooks.example.test"}, true},
		{"production, https, insecure cookies", dashboard.Deps{Production: true, InsecureCookies: true, PublicURL: "https://hooks.example.test"}, true},
	} {
		v := h.variant(nil, tc.deps)
		page := v.anon().get("/login")
		wantStatus(t, page, 200)
		r := loginForm(v, u.Email, password, "/")
		wantStatus(t, r, 303)
		for _, ck := range []string{cookieLine(page, "hookrelay_csrf"), cookieLine(r, "hookrelay_session")} {
			if ck == "" {
				t.Fatalf("%s: cookie missing: %q %q", tc.name, page.header.Values("Set-Cookie"), r.header.Values("Set-Cookie"))
			}
			if got := strings.Contains(strings.ToLower(ck), "; secure"); got != tc.secure {
				t.Errorf("%s: %q secure=%v, want %v", tc.name, ck, got, tc.secure)
			}
		}
	}
}

// Item 11: a Redis limiter that cannot be reached refuses sign-in with 503
// and a clear message; nothing is signed in.
func TestLoginFailsClosedWhenLimiterDown(t *testing.T) {
	h := newHarness(t)
	u := h.signIn("member").user
	rdb := redis.NewClient(&redis.Options{Addr: closedPort(t), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	v := h.variant(relay.NewRedisLimiter(rdb), dashboard.Deps{})
	before := h.count("sessions", "")
	r := loginForm(v, u.Email, password, "/")
	wantStatus(t, r, 503)
	wantBody(t, r, "Sign-in is temporarily unavailable, try again shortly.")
	if ck := cookieLine(r, "hookrelay_session"); ck != "" {
		t.Fatalf("session cookie despite the limiter being down: %q", ck)
	}
	if n := h.count("sessions", ""); n != before {
		t.Fatalf("%d sessions, want %d", n, before)
	}
}

// Item 11: attempts are counted per account and address together, so
// guessing one account is stopped while a colleague behind the same
// address still signs in.
func TestLoginThrottledPerAccountAndAddress(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.signIn("member").user, h.signIn("member").user
	v := h.variant(redisLimiter(t), dashboard.Deps{})
	for i := range 10 {
		wantStatus(t, loginForm(v, alice.Email, "wrong password "+string(rune('a'+i)), "/"), 401)
	}
	// The 11th is refused; the limit refills at 10 a minute, so a slow
	// machine may get one or two more through, never many.
	throttled := false
	for range 5 {
		r := loginForm(v, strings.ToUpper(alice.Email), password, "/")
		if r.status == 429 {
			wantBody(t, r, "Too many sign-in attempts")
			throttled = true
			break
		}
		wantStatus(t, r, 303)
	}
	if !throttled {
		t.Fatal("guessing one account was never throttled")
	}
	wantStatus(t, loginForm(v, bob.Email, password, "/"), 303) // same address, another account
}

// inviteForm opens an invite link as a new visitor and returns a function
// that submits its form (with the page's CSRF cookie).
func inviteForm(h *harness, admin *client) (path string, submit func(email, pw string) response) {
	h.t.Helper()
	r := admin.follow(admin.post("/team/invites", url.Values{"role": {"member"}}))
	m := inviteURL.FindStringSubmatch(r.body)
	if m == nil {
		h.t.Fatalf("no invite link in:\n%s", r.body)
	}
	path = m[1]
	anon := h.anon()
	tok := strings.Split(strings.TrimPrefix(cookieLine(anon.get(path), "hookrelay_csrf"), "hookrelay_csrf="), ";")[0]
	return path, func(email, pw string) response {
		req := newForm(path, url.Values{"_csrf": {tok}, "email": {email}, "password": {pw}, "confirm_password": {pw}})
		req.Header.Set("Cookie", "hookrelay_csrf="+tok)
		return anon.do(req)
	}
}

// Item 7: the invite form never says an email is registered. A registered
// email joins only with its own password (a sign-in); with another
// password the answer names neither case, and nothing changes.
func TestInviteDoesNotRevealAccounts(t *testing.T) {
	h := newHarness(t)
	admin := h.signIn("admin")
	elsewhere := h.signIn("owner", h.newTeam("Elsewhere")).user
	path, submit := inviteForm(h, admin)

	r := submit(elsewhere.Email, "another long password")
	wantStatus(t, r, 422)
	wantBody(t, r, "This email and password cannot join with this link.")
	if strings.Contains(strings.ToLower(r.body), "registered") || strings.Contains(r.body, `id="err-email"`) {
		t.Fatalf("the answer tells the email has an account:\n%s", r.body)
	}
	if n := h.count("memberships", "team_id = ? AND user_id = ?", h.team, elsewhere.ID); n != 0 {
		t.Fatal("joined without the account's password")
	}
	if n := h.count("audit_log", "action = 'user.login_failed'"); n != 1 {
		t.Fatalf("%d login_failed rows for a wrong password on the invite form", n)
	}
	wantStatus(t, h.anon().get(path), 200) // the link still works

	// With the account's own password, the existing user joins and is signed in.
	r = submit(elsewhere.Email, password)
	wantStatus(t, r, 303)
	if cookieLine(r, "hookrelay_session") == "" {
		t.Fatal("not signed in")
	}
	if n := h.count("memberships", "team_id = ? AND user_id = ? AND role = 'member'", h.team, elsewhere.ID); n != 1 {
		t.Fatal("existing user did not join")
	}
}

// Item 7: the invite form is throttled like sign-in, before anything is
// created, and fails closed when the limiter is down.
func TestInviteThrottledLikeLogin(t *testing.T) {
	h := newHarness(t)
	admin := h.signIn("admin")
	_, submit := inviteForm(h, admin)
	h.limiter.blocked = true
	r := submit("new@example.test", "a long new password")
	wantStatus(t, r, 429)
	wantBody(t, r, "Too many sign-in attempts")
	if n := h.count("users", "email = 'new@example.test'"); n != 0 {
		t.Fatal("account created while throttled")
	}
	if k := h.limiter.keys[len(h.limiter.keys)-1]; !strings.HasPrefix(k, "login:") {
		t.Fatalf("invite attempts not counted with sign-in: %q", k)
	}

	rdb := redis.NewClient(&redis.Options{Addr: closedPort(t), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	v := h.variant(relay.NewRedisLimiter(rdb), dashboard.Deps{})
	_, submit = inviteForm(v, &client{h: v, user: admin.user, cookie: admin.cookie, csrf: admin.csrf})
	r = submit("new@example.test", "a long new password")
	wantStatus(t, r, 503)
	wantBody(t, r, "Sign-in is temporarily unavailable")
	if n := h.count("users", "email = 'new@example.test'"); n != 0 {
		t.Fatal("account created while the limiter was down")
	}
}

// Item 10: common passwords, repeated characters and the user's own email
// are refused with a clear message on sign-up and password change.
func TestCommonPasswordsRefused(t *testing.T) {
	h := newHarness(t)
	admin := h.signIn("admin")
	_, submit := inviteForm(h, admin)
	for _, pw := range []string{"aaaaaaaaaa", "Password123", "QWERTYUIOP", "1234567890", "iloveyou123",
		"newbie@example.test", "NEWBIE2024!"} {
		r := submit("newbie@example.test", pw)
		wantStatus(t, r, 422)
		wantBody(t, r, `id="err-password"`)
		if !strings.Contains(r.body, "most common passwords") && !strings.Contains(r.body, "repeats a few characters") &&
			!strings.Contains(r.body, "must not be your email address") {
			t.Fatalf("password %q: no clear reason:\n%.3000s", pw, r.body)
		}
	}
	if n := h.count("users", "email = 'newbie@example.test'"); n != 0 {
		t.Fatal("account created with a refused password")
	}
	wantStatus(t, submit("newbie@example.test", "plum tree at dusk"), 303)

	c := h.signIn("viewer")
	local := strings.Split(c.user.Email, "@")[0]
	for _, pw := range []string{"qwertyuiop", "abcabcabca", c.user.Email, local, local + "123"} {
		r := c.post("/account/password", url.Values{"current_password": {password}, "new_password": {pw}, "confirm_password": {pw}})
		wantStatus(t, r, 422)
		wantBody(t, r, `id="err-password"`)
	}
	if _, err := h.relay.Login(h.ctx(), c.user.Email, password, "127.0.0.1", ""); err != nil {
		t.Fatalf("the old password stopped working: %v", err)
	}
}
