package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	h := newHarness(t)
	c := h.signIn("viewer")
	l, err := h.relay.Login(h.ctx(), c.user.Email, password, "127.0.0.2", "other browser")
	testenv.Must(t, err)
	other := &client{h: h, user: c.user, cookie: l.Token, csrf: l.Session.CSRFToken}
	wantStatus(t, c.get("/account"), 200)

	r := c.post("/account/password", url.Values{"current_password": {"wrong one!!"}, "new_password": {"a new password"}, "confirm_password": {"a new password"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-current_password"`)
	r = c.post("/account/password", url.Values{"current_password": {password}, "new_password": {"a new password"}, "confirm_password": {"different"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-confirm_password"`)
	r = c.post("/account/password", url.Values{"current_password": {password}, "new_password": {"short"}, "confirm_password": {"short"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-password"`)
	wantStatus(t, c.post("/account/password", url.Values{"_csrf": {""}, "current_password": {password},
		"new_password": {"a new password"}, "confirm_password": {"a new password"}}), 403)
	wantStatus(t, other.get("/"), 200)

	r = c.post("/account/password", url.Values{"current_password": {password}, "new_password": {"a new password"}, "confirm_password": {"a new password"}})
	wantStatus(t, r, 303)
	wantStatus(t, c.get("/"), 200)     // this session stays
	wantStatus(t, other.get("/"), 303) // the other one is gone
	if _, err := h.relay.Login(h.ctx(), c.user.Email, "a new password", "127.0.0.1", ""); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
}

func TestCreateAndSwitchTeam(t *testing.T) {
	h := newHarness(t)
	c := h.signIn("owner") // of the first team: HOOKRELAY_TEAM_CREATION=owners
	wantStatus(t, c.get("/teams/new"), 200)
	wantStatus(t, c.post("/teams", url.Values{"name": {" "}}), 422)
	wantStatus(t, c.post("/teams", url.Values{"name": {"Side project"}, "_csrf": {"x"}}), 403)
	r := c.post("/teams", url.Values{"name": {"Side project"}})
	wantStatus(t, r, 303)
	r = c.get("/team")
	wantBody(t, r, "Team Side project", "(owner)")
	opt := regexp.MustCompile(`<option value="(team_[a-z0-9]+)"[^>]*>Team A`).FindStringSubmatch(r.body)
	if opt == nil {
		t.Fatalf("no switcher option for Team A:\n%s", r.body)
	}
	wantStatus(t, c.post("/teams/switch", url.Values{"team_id": {opt[1]}}), 303)
	wantBody(t, c.get("/team"), "Team Team A")
	stranger := h.newTeam("Not mine")
	wantStatus(t, c.post("/teams/switch", url.Values{"team_id": {stranger}}), 404)
	if strings.Contains(c.get("/").body, "Not mine") {
		t.Fatal("switched into a team without membership")
	}
}

// Issue 11 item 14: HOOKRELAY_TEAM_CREATION.
func TestTeamCreationSetting(t *testing.T) {
	h := newHarness(t) // owners, the default
	v := h.signIn("viewer")
	wantStatus(t, v.get("/teams/new"), 403)
	r := v.post("/teams", url.Values{"name": {"Mine"}})
	wantStatus(t, r, 403)
	wantBody(t, r, "only owners of the first team create teams")
	if h.count("teams", "name = ?", "Mine") != 0 {
		t.Fatal("a viewer created a team")
	}
	if strings.Contains(v.get("/account").body, `href="/teams/new"`) {
		t.Fatal("the account page offers a viewer to create a team")
	}
	// An owner of another team than the first is refused too.
	other := h.newTeam("Second")
	wantStatus(t, h.signIn("owner", other).post("/teams", url.Values{"name": {"Mine"}}), 403)
	wantStatus(t, h.signIn("owner").post("/teams", url.Values{"name": {"Mine"}}), 303)

	h = newHarnessWith(t, func(o *relay.Options) { o.TeamCreation = relay.TeamCreationAnyone })
	v = h.signIn("viewer")
	wantBody(t, v.get("/account"), `href="/teams/new"`)
	wantStatus(t, v.post("/teams", url.Values{"name": {"Mine"}}), 303)
}
