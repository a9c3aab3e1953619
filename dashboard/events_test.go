package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestEventPagesRenderForViewer(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	evt, dlv := h.event(w, "invoice.paid", store.StatusFailed, `{"id":"evt_1","data":{"amount":2000}}`)
	job, err := h.relay.StartBulk(h.ctx(), relay.SystemActor(h.team), store.BulkFilter{})
	testenv.Must(t, err)
	v := h.signIn("viewer")

	r := v.get("/events")
	wantStatus(t, r, 200)
	wantBody(t, r, "<h1>Events</h1>", evt, "Stripe live", "invoice.paid", "1 failed", `data-live="/events?fragment=1"`)

	r = v.get("/events/" + evt)
	wantStatus(t, r, 200)
	// Pretty-printed server-side, and the exact bytes in the raw view.
	wantBody(t, r, "{\n  &#34;id&#34;: &#34;evt_1&#34;,", `{&#34;id&#34;:&#34;evt_1&#34;,&#34;data&#34;:{&#34;amount&#34;:2000}}`,
		"Stripe-Signature", "t=1,v1=abc", "/deliveries/"+dlv, "http://127.0.0.1:1/hook", "signature verified")
	if strings.Contains(r.body, "Redeliver to all") {
		t.Fatal("a viewer is offered the redeliver button")
	}

	r = v.get("/deliveries/" + dlv)
	wantStatus(t, r, 200)
	wantBody(t, r, "Attempt 1", "HTTP 500", "sink says no", "X-Sink", "Webhook-Id", "12 ms", "endpoint answered 500")
	if strings.Contains(r.body, ">Redeliver</button>") {
		t.Fatal("a viewer is offered the redeliver button")
	}

	for _, p := range []string{"/bulk", "/bulk?preview=1", "/bulk/" + job.ID, "/audit", "/audit.csv"} {
		wantStatus(t, v.get(p), 200)
	}
	wantBody(t, v.get("/bulk?preview=1"), "<strong>1</strong> failed deliveries match", "Your role cannot start")
	wantBody(t, v.get("/bulk/"+job.ID), "0 of 1 deliveries")
}

func TestEventUnverifiedAndNonJSON(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	evt, _ := h.event(w, "", store.StatusSucceeded, "a=1&b=<2>")
	_, err := h.db.NewRaw("UPDATE events SET verified = false WHERE id = ?", evt).Exec(h.ctx())
	testenv.Must(t, err)
	v := h.signIn("viewer")
	wantBody(t, v.get("/events"), "unverified")
	r := v.get("/events/" + evt)
	wantBody(t, r, "unverified", "Not JSON", "a=1&amp;b=&lt;2&gt;")
}

var eventLink = regexp.MustCompile(`<a href="/events/(evt_[0-9a-z]+)">evt_`)

// listed returns the event ids of a list page, in order.
func listed(body string) []string {
	var ids []string
	for _, m := range eventLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// walk follows Older links from path and returns every event id seen.
func walk(t *testing.T, c *client, path string) []string {
	t.Helper()
	var all []string
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		r := c.get(path)
		wantStatus(t, r, 200)
		all = append(all, listed(r.body)...)
		path = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	return all
}

func TestEventFiltersAndPagination(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	paid := h.events(w, "invoice.paid", store.StatusSucceeded, 7)
	failed := h.events(w, "charge.failed", store.StatusFailed, 3)
	v := h.signIn("viewer")

	all := walk(t, v, "/events?limit=3")
	want := append(append([]string{}, failed...), paid...)
	if strings.Join(all, ",") != strings.Join(want, ",") {
		t.Fatalf("pages gave %v\nwant %v", all, want)
	}
	if got := walk(t, v, "/events?limit=2&type=invoice.paid"); strings.Join(got, ",") != strings.Join(paid, ",") {
		t.Fatalf("type filter: %v", got)
	}
	if got := walk(t, v, "/events?limit=2&status=failed&source="+w.src.ID); strings.Join(got, ",") != strings.Join(failed, ",") {
		t.Fatalf("status filter: %v", got)
	}
	if got := walk(t, v, "/events?until=2000-01-01T00:00"); len(got) != 0 {
		t.Fatalf("until 2000: %v", got)
	}
	if got := walk(t, v, "/events?since=2000-01-01T00:00&limit=4"); len(got) != 10 {
		t.Fatalf("since 2000: %d events", len(got))
	}

	// An exact id jumps to the event: ours or the provider's.
	r := v.get("/events?id=" + paid[2])
	wantStatus(t, r, 303)
	if r.header.Get("Location") != "/events/"+paid[2] {
		t.Fatalf("jump to %q", r.header.Get("Location"))
	}
	var pid string
	testenv.Must(t, h.db.NewRaw("SELECT provider_event_id FROM events WHERE id = ?", failed[0]).Scan(h.ctx(), &pid))
	if r := v.get("/events?id=" + url.QueryEscape(pid)); r.header.Get("Location") != "/events/"+failed[0] {
		t.Fatalf("provider id jump: %d %q", r.status, r.header.Get("Location"))
	}
	r = v.get("/events?id=evt_nothing")
	wantStatus(t, r, 422)
	wantBody(t, r, "No event with this id")
	wantStatus(t, v.get("/events?since=yesterday"), 422)
	wantStatus(t, v.get("/events?status=bogus"), 422)
	r = v.get("/events?since=2030-01-02T00:00&until=2030-01-01T00:00")
	wantStatus(t, r, 422)
	wantBody(t, r, "must be after since")
}

func TestLiveFragments(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	evt, dlv := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	job, err := h.relay.StartBulk(h.ctx(), relay.SystemActor(h.team), store.BulkFilter{})
	testenv.Must(t, err)
	v := h.signIn("viewer")
	for path, want := range map[string]string{
		"/events?fragment=1&type=invoice.paid": evt,
		"/deliveries/" + dlv + "?fragment=1":   "Attempt 1",
		"/bulk/" + job.ID + "?fragment=1":      "0 of 1 deliveries",
	} {
		r := v.get(path)
		wantStatus(t, r, 200)
		wantBody(t, r, want)
		if strings.Contains(r.body, "<html") || strings.Contains(r.body, "<nav") || r.header.Get("X-Hookrelay-Fragment") != "1" {
			t.Fatalf("%s is not a bare fragment:\n%s", path, r.body)
		}
	}
	// A new event shows up in the next poll.
	evt2, _ := h.event(w, "invoice.paid", store.StatusPending, `{}`)
	wantBody(t, v.get("/events?fragment=1"), evt2, evt)
	// Without a session the poll gets a redirect, never a page to swap in.
	if r := h.anon().get("/events?fragment=1"); r.status != 303 || r.header.Get("X-Hookrelay-Fragment") != "" {
		t.Fatalf("anonymous fragment: %d", r.status)
	}
}
