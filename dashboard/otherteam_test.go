package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 12: a link into another of the user's teams offers a
// switch; into a team the user is not in, it is the plain not-found page.
func TestLinkIntoAnotherTeam(t *testing.T) {
	h := newHarness(t)
	teamB := h.newTeam("Team B")
	w := h.seedWorld(teamB)
	evt, _ := h.event(w, "invoice.paid", store.StatusFailed, `{}`)

	both := h.signIn("member") // in Team A, current
	_, err := h.relay.CreateUser(h.ctx(), relay.SystemActor(teamB), both.user.Email, "", "", teamB, "viewer")
	if err != nil { // an existing user is added to the team
		testenv.Must(t, store.New(h.db).UpsertMembership(h.ctx(), &store.Membership{TeamID: teamB, UserID: both.user.ID, Role: "viewer"}))
	}
	r := both.get("/events/" + evt)
	wantStatus(t, r, 404)
	wantBody(t, r, "This event belongs to team Team B", `action="/teams/switch"`, `name="team_id" value="`+teamB+`"`,
		`name="next" value="/events/`+evt+`"`, `name="_csrf"`)
	wantStatus(t, both.post("/teams/switch", url.Values{"team_id": {teamB}, "next": {"/events/" + evt}, "_csrf": {"x"}}), 403)
	r = both.post("/teams/switch", url.Values{"team_id": {teamB}, "next": {"/events/" + evt}})
	wantStatus(t, r, 303)
	if r.header.Get("Location") != "/events/"+evt {
		t.Fatalf("switch goes to %q", r.header.Get("Location"))
	}
	wantStatus(t, both.get("/events/"+evt), 200)
	wantStatus(t, both.get("/endpoints/"+w.ep.ID), 200)

	// A stranger to Team B sees exactly what a missing id shows.
	stranger := h.signIn("owner")
	leak := stranger.get("/endpoints/" + w.ep.ID)
	missing := stranger.get("/endpoints/ep_01jzzzzzzzzzzzzzzzzzzzzzzz")
	wantStatus(t, leak, 404)
	if mainOf(leak.body) != mainOf(missing.body) || strings.Contains(leak.body, "Team B") {
		t.Fatalf("another team's object is told apart from a missing one:\n%s", mainOf(leak.body))
	}
	// Off-site next is ignored.
	r = both.post("/teams/switch", url.Values{"team_id": {h.team}, "next": {"//evil.example/x"}})
	if r.header.Get("Location") != "/" {
		t.Fatalf("switch follows next to %q", r.header.Get("Location"))
	}
}

func mainOf(body string) string {
	i, j := strings.Index(body, "<main"), strings.Index(body, "</main>")
	if i < 0 || j < i {
		return body
	}
	return body[i:j]
}
