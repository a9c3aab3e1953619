package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestLoginPageAndSession(t *testing.T) {
	h := newHarness(t)
	anon := h.anon()
	r := anon.get("/sources")
	wantStatus(t, r, 303)
	if loc := r.header.Get("Location"); loc != "/login?next=%2Fsources" {
		t.Fatalf("redirect to %q", loc)
	}
	r = anon.get("/login")
	wantStatus(t, r, 200)
	wantBody(t, r, "<h1>Sign in to hookrelay</h1>", `name="_csrf"`)

	c := h.signIn("viewer")
	r = c.get("/")
	wantStatus(t, r, 200)
	wantBody(t, r, "Overview", c.user.Email, `aria-current="page"`)
}

func TestLoginFormAndFailures(t *testing.T) {
	h := newHarness(t)
	owner := h.signIn("owner")
	email := owner.user.Email

	// The double-submit token: the cookie set by the login page.
	login := func(pw string, token string) response {
		anon := h.anon()
		form := url.Values{"email": {email}, "password": {pw}, "_csrf": {token}, "next": {"/team"}}
		req := newForm("/login", form)
		req.Header.Set("Cookie", "hookrelay_csrf="+strings.Repeat("a", 43))
		return anon.do(req)
	}
	wantStatus(t, login(password, "wrong"), 403)

	good := strings.Repeat("a", 43)
	r := login("not the password", good)
	wantStatus(t, r, 401)
	wantBody(t, r, "Wrong email or password.")
	if strings.Contains(r.body, "not the password") {
		t.Fatal("password echoed back")
	}
	if n := h.count("audit_log", "action = 'user.login_failed'"); n != 1 {
		t.Fatalf("%d login_failed audit rows", n)
	}

	r = login(password, good)
	wantStatus(t, r, 303)
	if r.header.Get("Location") != "/team" {
		t.Fatalf("redirect to %q", r.header.Get("Location"))
	}
	ck := r.header.Values("Set-Cookie")
	if !strings.Contains(strings.Join(ck, "\n"), "hookrelay_session=hrs_") ||
		!strings.Contains(strings.ToLower(strings.Join(ck, "\n")), "httponly") ||
		!strings.Contains(strings.ToLower(strings.Join(ck, "\n")), "samesite=lax") ||
		!strings.Contains(strings.ToLower(strings.Join(ck, "\n")), "secure") {
		t.Fatalf("cookies: %q", ck)
	}

	h.limiter.blocked = true
	r = login(password, good)
	wantStatus(t, r, 429)
	wantBody(t, r, "Too many sign-in attempts")
}

func TestLogoutRevokesSession(t *testing.T) {
	h := newHarness(t)
	c := h.signIn("member")
	wantStatus(t, c.post("/logout", url.Values{"_csrf": {"nope"}}), 403)
	wantStatus(t, c.get("/"), 200)
	r := c.post("/logout", nil)
	wantStatus(t, r, 303)
	r = c.get("/")
	wantStatus(t, r, 303) // the old cookie no longer works
	if n := h.count("sessions", ""); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}
