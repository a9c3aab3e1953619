package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

var inviteURL = regexp.MustCompile(`https://hooks\.example\.test(/invite/inv_[A-Za-z0-9_-]+)`)

func TestTeamMembersRoles(t *testing.T) {
	h := newHarness(t)
	owner, admin, member, viewer := h.signIn("owner"), h.signIn("admin"), h.signIn("member"), h.signIn("viewer")
	r := viewer.get("/team")
	wantStatus(t, r, 200)
	wantBody(t, r, owner.user.Email, member.user.Email)
	if strings.Contains(r.body, "Change role") || strings.Contains(r.body, "Create invite link") {
		t.Fatal("viewer sees member management")
	}
	role := func(c *client, target *client, to string) response {
		return c.post("/team/members/"+target.user.ID+"/role", url.Values{"role": {to}})
	}
	wantStatus(t, role(member, viewer, "admin"), 403)
	wantStatus(t, member.post("/team/members/"+viewer.user.ID+"/remove", nil), 403)
	wantStatus(t, member.post("/team/invites", url.Values{"role": {"viewer"}}), 403)
	wantStatus(t, role(admin, owner, "viewer"), 403) // admins cannot touch owners
	wantStatus(t, role(admin, viewer, "owner"), 403)
	wantStatus(t, admin.post("/team/members/"+viewer.user.ID+"/role", url.Values{"role": {"member"}, "_csrf": {"no"}}), 403)
	if n := h.count("audit_log", "action = 'member.role_change'"); n != 0 {
		t.Fatalf("%d role changes after refused posts", n)
	}
	r = role(admin, viewer, "superuser")
	wantStatus(t, r, 422)
	wantBody(t, r, "Must be owner, admin, member or viewer. Nothing was changed.")
	r = role(owner, owner, "admin") // the last owner
	wantStatus(t, r, 422)
	wantBody(t, r, "at least one owner")

	wantStatus(t, role(admin, viewer, "member"), 303)
	if n := h.count("memberships", "user_id = ? AND role = 'member'", viewer.user.ID); n != 1 {
		t.Fatal("role not changed")
	}
	wantStatus(t, admin.post("/team/members/"+viewer.user.ID+"/remove", nil), 303)
	wantStatus(t, viewer.get("/sources"), 303) // in no team now: sent to create one
	other := h.newTeam("Other")
	outsider := h.signIn("viewer", other)
	wantStatus(t, admin.post("/team/members/"+outsider.user.ID+"/remove", nil), 404)
}

func TestInviteFlow(t *testing.T) {
	h := newHarness(t)
	admin := h.signIn("admin")
	r := admin.post("/team/invites", url.Values{"role": {"owner"}})
	wantStatus(t, r, 403) // only owners invite owners
	r = admin.post("/team/invites", url.Values{"role": {"member"}, "email": {"new@example.test"}})
	wantStatus(t, r, 303)
	r = admin.follow(r)
	m := inviteURL.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no invite link in:\n%s", r.body)
	}
	path := m[1]
	wantBody(t, admin.get("/team"), "member for new@example.test")
	if strings.Contains(admin.get("/team").body, path) {
		t.Fatal("invite link shown twice")
	}

	// A new visitor creates an account on the invite page.
	anon := h.anon()
	r = anon.get(path)
	wantStatus(t, r, 200)
	wantBody(t, r, "Join Team A", `value="new@example.test"`, "Create account and join")
	cookie := ""
	for _, ck := range r.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(ck, "hookrelay_csrf="); ok {
			cookie = strings.Split(v, ";")[0]
		}
	}
	submit := func(form url.Values) response {
		req := newForm(path, form)
		req.Header.Set("Cookie", "hookrelay_csrf="+cookie)
		return anon.do(req)
	}
	form := url.Values{"email": {"new@example.test"}, "password": {"long enough pw"}, "confirm_password": {"long enough pw"}}
	wantStatus(t, submit(form), 403) // no _csrf
	form.Set("_csrf", cookie)
	bad := url.Values{"_csrf": {cookie}, "email": {"new@example.test"}, "password": {"short"}, "confirm_password": {"short"}}
	r = submit(bad)
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-password"`)
	if n := h.count("users", "email = 'new@example.test'"); n != 0 {
		t.Fatal("user created from invalid form")
	}
	r = submit(form)
	wantStatus(t, r, 303)
	if n := h.count("memberships", "role = 'member' AND user_id IN (SELECT id FROM users WHERE email = 'new@example.test')"); n != 1 {
		t.Fatal("new user did not join")
	}
	if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "hookrelay_session=hrs_") {
		t.Fatal("new user not signed in")
	}
	wantStatus(t, anon.get(path), 404) // used up

	// A signed-in user of another team joins with one click.
	r = admin.follow(admin.post("/team/invites", url.Values{"role": {"viewer"}}))
	path = inviteURL.FindStringSubmatch(r.body)[1]
	elsewhere := h.signIn("owner", h.newTeam("Elsewhere"))
	r = elsewhere.get(path)
	wantStatus(t, r, 200)
	wantBody(t, r, "Signed in as "+elsewhere.user.Email)
	wantStatus(t, elsewhere.post(path, url.Values{"_csrf": {"x"}}), 403)
	wantStatus(t, elsewhere.post(path, nil), 303)
	r = elsewhere.get("/team")
	wantBody(t, r, "Team A", admin.user.Email) // switched to the new team
	wantBody(t, r, `name="team_id"`)           // and can switch back
	if n := h.count("audit_log", "action = 'member.join'"); n != 2 {
		t.Fatalf("%d member.join audit rows", n)
	}
}

func TestRevokeInvite(t *testing.T) {
	h := newHarness(t)
	owner, admin, member := h.signIn("owner"), h.signIn("admin"), h.signIn("member")
	invite := func(c *client, role string) (id, path string) {
		t.Helper()
		r := c.post("/team/invites", url.Values{"role": {role}, "email": {role + "@example.test"}})
		wantStatus(t, r, 303)
		r = c.follow(r)
		path = inviteURL.FindStringSubmatch(r.body)[1]
		var row struct{ ID string }
		testenv.Must(t, h.db.NewSelect().Table("invites").Column("id").Where("email = ?", role+"@example.test").Scan(h.ctx(), &row))
		return row.ID, path
	}
	memberInv, memberPath := invite(admin, "member")
	ownerInv, _ := invite(owner, "owner")

	r := admin.get("/team")
	wantBody(t, r, `action="/team/invites/`+memberInv+`/revoke"`)
	if strings.Contains(r.body, `action="/team/invites/`+ownerInv+`/revoke"`) {
		t.Fatal("an admin is offered to cancel an owner invite")
	}
	if strings.Contains(member.get("/team").body, "Cancel invite") {
		t.Fatal("a member sees invite management")
	}
	wantStatus(t, member.post("/team/invites/"+memberInv+"/revoke", nil), 403)
	wantStatus(t, admin.post("/team/invites/"+memberInv+"/revoke", url.Values{"_csrf": {"forged"}}), 403)
	wantStatus(t, admin.post("/team/invites/"+ownerInv+"/revoke", nil), 403) // only owners touch owner invites
	if n := h.count("audit_log", "action = 'invite.revoke'"); n != 0 {
		t.Fatalf("%d revocations after refused posts", n)
	}

	r = admin.post("/team/invites/"+memberInv+"/revoke", nil)
	wantStatus(t, r, 303)
	r = admin.follow(r)
	wantBody(t, r, "Invite cancelled")
	if strings.Contains(r.body, "member@example.test") {
		t.Fatal("a cancelled invite is still listed")
	}
	wantStatus(t, h.anon().get(memberPath), 404) // the link is dead
	wantStatus(t, admin.post("/team/invites/"+memberInv+"/revoke", nil), 404)
	wantStatus(t, owner.post("/team/invites/"+ownerInv+"/revoke", nil), 303)
	if n := h.count("audit_log", "action = 'invite.revoke'"); n != 2 {
		t.Fatalf("%d invite.revoke audit rows", n)
	}
	wantBody(t, owner.get("/audit?action=invite.revoke"), "member@example.test", "Before")

	outsider := h.signIn("owner", h.newTeam("Other"))
	otherInv, _ := invite(outsider, "viewer")
	wantStatus(t, admin.post("/team/invites/"+otherInv+"/revoke", nil), 404)
}
