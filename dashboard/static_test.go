package dashboard_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestStaticAssetsAndHeaders(t *testing.T) {
	h := newHarness(t)
	r := h.anon().get("/login")
	wantStatus(t, r, 200)
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("CSP %q", r.header.Get("Content-Security-Policy"))
	}
	css := regexp.MustCompile(`href="(/static/app\.[0-9a-f]{8}\.css)"`).FindStringSubmatch(r.body)
	js := regexp.MustCompile(`src="(/static/app\.[0-9a-f]{8}\.js)"`).FindStringSubmatch(r.body)
	if css == nil || js == nil {
		t.Fatalf("no fingerprinted assets in:\n%s", r.body)
	}
	a := h.anon().get(css[1])
	wantStatus(t, a, 200)
	wantBody(t, a, ":focus-visible")
	if a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
		t.Fatalf("css headers %v", a.header)
	}
	wantStatus(t, h.anon().get(js[1]), 200)
	wantStatus(t, h.anon().get("/static/app.00000000.css"), 404)

	// The API's paths keep the API's answers.
	api := h.anon().get("/api/v1/nope")
	wantStatus(t, api, 401)
	wantBody(t, api, `"error"`)
	wantStatus(t, h.anon().get("/healthz"), 200)

	// Unknown dashboard pages: login first, then a 404 page.
	wantStatus(t, h.anon().get("/nope"), 303)
	r = h.signIn("viewer").get("/nope")
	wantStatus(t, r, 404)
	wantBody(t, r, "<h1>Not found</h1>")
}
