package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 11: an endpoint with no source, and a Stripe source whose
// secret is an API key, are pointed out.
func TestConfigurationWarnings(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	u, none := "http://127.0.0.1:1/lonely", []string{}
	lonely, _, err := h.relay.CreateEndpoint(h.ctx(), relay.SystemActor(h.team), relay.EndpointInput{URL: &u, SourceIDs: &none})
	testenv.Must(t, err)
	owner := h.signIn("owner")

	r := owner.get("/endpoints/" + lonely.ID)
	wantBody(t, r, "subscribed to no source, so it receives no events", `href="/endpoints/`+lonely.ID+`/edit"`)
	if strings.Contains(owner.get("/endpoints/"+w.ep.ID).body, "subscribed to no source") {
		t.Fatal("an endpoint with a source is warned about")
	}
	r = owner.get("/endpoints")
	if strings.Count(r.body, ">no sources</span>") != 1 {
		t.Fatalf("the list does not mark exactly the endpoint without sources:\n%s", r.body)
	}

	r = owner.post("/sources", url.Values{"name": {"Keyed"}, "provider": {"stripe"}, "secret": {"sk_test_51Habcdefghijklmnopqrstuvwxyz"}})
	wantStatus(t, r, 303)
	r = owner.follow(r)
	wantBody(t, r, "Source created, but check its secret.", "looks like a Stripe API key (sk_…), not a webhook signing secret (whsec_…)")
	// The source page keeps saying it, after the flash is gone.
	wantBody(t, owner.get("/sources/"+sourceIDIn(t, r.body)), "looks like a Stripe API key (sk_…)")
	if strings.Contains(owner.get("/sources/"+w.src.ID).body, "looks like a Stripe API key") {
		t.Fatal("a whsec_ secret is warned about")
	}
}

// sourceIDIn finds the id of the source whose page body is.
func sourceIDIn(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `action="/sources/src_`)
	if i < 0 {
		t.Fatal("no source id on the page")
	}
	s := body[i+len(`action="/sources/`):]
	return s[:strings.IndexAny(s, `/"`)]
}
