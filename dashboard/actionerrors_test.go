package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 8: a refused button says why, not "fix the fields marked
// below" on a page with no field to fix.
func TestRefusedActionsGiveTheReason(t *testing.T) {
	h := newHarness(t)
	owner := h.signIn("owner")
	r := owner.post("/team/members/"+owner.user.ID+"/remove", nil)
	wantStatus(t, r, 422)
	wantBody(t, r, "A team needs at least one owner. Nothing was changed.")
	if strings.Contains(r.body, "fields marked below") {
		t.Fatal("removing the last owner asks to fix fields")
	}
	r = owner.post("/team/members/"+owner.user.ID+"/role", url.Values{"role": {"viewer"}})
	wantStatus(t, r, 422)
	wantBody(t, r, "A team needs at least one owner.")

	u, ids := "http://127.0.0.1:1/lonely", []string{}
	ep, _, err := h.relay.CreateEndpoint(h.ctx(), relay.SystemActor(h.team), relay.EndpointInput{URL: &u, SourceIDs: &ids})
	testenv.Must(t, err)
	r = owner.post("/endpoints/"+ep.ID+"/test", nil)
	wantStatus(t, r, 422)
	wantBody(t, r, "The endpoint is subscribed to no source; subscribe it to one first. Nothing was changed.")
	if strings.Contains(r.body, "fields marked below") {
		t.Fatal("a test event without sources asks to fix fields")
	}
}
