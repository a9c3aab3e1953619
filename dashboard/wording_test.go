package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 15: the wording of the pages.
func TestPageWording(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	evt, _ := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	// What the worker records for a 500: the error is the status itself.
	_, err := h.db.NewUpdate().Table("deliveries").Set("last_error = 'HTTP 500'").Where("event_id = ?", evt).Exec(h.ctx())
	testenv.Must(t, err)
	owner := h.signIn("owner")

	r := owner.get("/events/" + evt)
	wantStatus(t, r, 200)
	wantBody(t, r, "HTTP 500")
	if strings.Contains(r.body, "HTTP 500 HTTP 500") || strings.Contains(r.body, "HTTP 500 — HTTP 500") ||
		strings.Contains(r.body, "HTTP 500 <span class=\"muted\">HTTP 500") {
		t.Fatal("the last answer says HTTP 500 twice")
	}
	if b := owner.get("/endpoints/" + w.ep.ID).body; strings.Contains(b, "HTTP 500 HTTP 500") || strings.Contains(b, "(HTTP 500) — HTTP 500") {
		t.Fatal("the endpoint page says HTTP 500 twice for one answer")
	}

	// The disable time is shown once, in the page's format.
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	_, err = store.New(h.db).SwitchEndpoint(h.ctx(), h.team, w.ep.ID, false, "endpoint answered 410 Gone at "+at.Format(time.RFC3339), at)
	testenv.Must(t, err)
	r = owner.get("/endpoints/" + w.ep.ID)
	wantBody(t, r, "2026-03-04 05:06:07 UTC", "endpoint answered 410 Gone")
	if strings.Contains(r.body, "2026-03-04T05:06:07Z") || strings.Contains(r.body, "Gone at ") {
		t.Fatal("the disable reason repeats the time in RFC 3339")
	}

	// Providers by name in sentences.
	r = owner.post("/sources", url.Values{"name": {"Plain"}, "provider": {"none"}})
	wantStatus(t, r, 303)
	r = owner.follow(r)
	wantBody(t, r, "Point your sender at its ingest URL")
	if strings.Contains(r.body, "Point none") {
		t.Fatal("a sentence names the provider by its id")
	}

	// No package prefix in a user-facing message.
	r = owner.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/x"}, "retry_schedule": {"5s,soon"}})
	wantStatus(t, r, 422)
	wantBody(t, r, "retry schedule entry 2")
	if strings.Contains(r.body, "delivery: ") {
		t.Fatal("an error message starts with a package prefix")
	}

	// A display name is not shown like a role.
	u, err := h.relay.CreateUser(h.ctx(), relay.SystemActor(h.team), "named@example.test", "Admin", password, h.team, "owner")
	testenv.Must(t, err)
	r = owner.get("/team")
	wantBody(t, r, "Admin <span class=\"muted\">&lt;"+u.Email+"&gt;</span>")
	if strings.Contains(r.body, "(Admin)") {
		t.Fatal("a display name is shown in parentheses, like a role")
	}

	// A bulk job names its endpoint by URL.
	job, err := h.relay.StartBulk(h.ctx(), relay.SystemActor(h.team), store.BulkFilter{EndpointID: w.ep.ID})
	testenv.Must(t, err)
	r = owner.get("/bulk/" + job.ID)
	wantStatus(t, r, 200)
	wantBody(t, r, `href="/endpoints/`+w.ep.ID+`">`+w.ep.URL+`</a>`)

	// Event types break at their dots only.
	wantBody(t, owner.get("/events"), `<span class="etype"><span class="nw">invoice.</span><wbr><span class="nw">paid</span></span>`)
}
