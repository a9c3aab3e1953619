package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestTokensPage(t *testing.T) {
	h := newHarness(t)
	viewer, member, admin := h.signIn("viewer"), h.signIn("member"), h.signIn("admin")
	wantStatus(t, viewer.get("/tokens"), 200)
	wantStatus(t, viewer.post("/tokens", url.Values{"name": {"ci"}, "read": {"on"}}), 403)
	wantStatus(t, member.post("/tokens", url.Values{"name": {"ci"}, "read": {"on"}}), 403)
	wantStatus(t, admin.post("/tokens", url.Values{"name": {"ci"}, "read": {"on"}, "_csrf": {"x"}}), 403)
	r := admin.post("/tokens", url.Values{"name": {""}, "read": {"on"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-name"`)
	r = admin.post("/tokens", url.Values{"name": {"ci"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-scopes"`)
	if n := h.count("api_tokens", "") + h.count("audit_log", "action LIKE 'api_token.%'"); n != 0 {
		t.Fatalf("%d rows after refused creates", n)
	}

	r = admin.post("/tokens", url.Values{"name": {"ci"}, "read": {"on"}})
	wantStatus(t, r, 201)
	tok := regexp.MustCompile(`value="(hr_[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
	if tok == nil {
		t.Fatalf("token not shown:\n%s", r.body)
	}
	if strings.Contains(admin.get("/tokens").body, tok[1]) {
		t.Fatal("token shown twice")
	}
	at, err := h.relay.Authenticate(h.ctx(), tok[1])
	if err != nil || strings.Join(at.Scopes, ",") != "read" {
		t.Fatalf("token %+v, %v", at, err)
	}
	r = viewer.get("/tokens")
	wantBody(t, r, "ci", "read", "s ago")
	wantStatus(t, viewer.post("/tokens/"+at.ID+"/revoke", nil), 403)
	wantStatus(t, member.post("/tokens/"+at.ID+"/revoke", nil), 403)
	other := h.signIn("owner", h.newTeam("B"))
	wantStatus(t, other.post("/tokens/"+at.ID+"/revoke", nil), 404)
	wantStatus(t, admin.post("/tokens/"+at.ID+"/revoke", nil), 303)
	if _, err := h.relay.Authenticate(h.ctx(), tok[1]); err == nil {
		t.Fatal("revoked token still works")
	}
	if n := h.count("audit_log", "action = 'api_token.revoke' AND target_id = ?", at.ID); n != 1 {
		t.Fatalf("%d revoke audit rows", n)
	}
	wantBody(t, admin.get("/tokens"), "revoked")
}
