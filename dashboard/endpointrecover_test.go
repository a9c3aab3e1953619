package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestRecoverEndpoint(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	_, d1 := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	_, d2 := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	st := store.New(h.db)
	testenv.Must(t, st.SetEndpointEnabled(h.ctx(), h.team, w.ep.ID, false, "auto-disabled after 3 days of failures", time.Now()))
	_, err := h.db.NewRaw(`UPDATE endpoints SET failing_since = now() - interval '1 hour' WHERE id = ?`, w.ep.ID).Exec(h.ctx())
	testenv.Must(t, err)
	viewer, member := h.signIn("viewer"), h.signIn("member")
	path := "/endpoints/" + w.ep.ID

	r := viewer.get(path)
	wantStatus(t, r, 200)
	wantBody(t, r, "disabled", "auto-disabled after 3 days of failures", "failing since")
	if strings.Contains(r.body, "Re-enable and redeliver failed") {
		t.Fatal("viewer is offered the recovery")
	}
	wantStatus(t, viewer.post(path+"/recover", nil), 403)
	wantStatus(t, member.post(path+"/recover", url.Values{"_csrf": {"forged"}}), 403)
	if n := h.count("audit_log", "action = 'endpoint.recover'"); n != 0 {
		t.Fatalf("%d recoveries after refused posts", n)
	}
	wantBody(t, viewer.get("/endpoints"), "auto-disabled after 3 days of failures", "failing since")

	r = member.get(path)
	wantBody(t, r, `action="`+path+`/recover"`, "Re-enable and redeliver failed")
	r = member.post(path+"/recover", nil)
	wantStatus(t, r, 303)
	wantBody(t, member.follow(r), "Endpoint enabled; 2 failed deliveries queued for redelivery.")
	ep, err := st.GetEndpoint(h.ctx(), h.team, w.ep.ID)
	testenv.Must(t, err)
	if !ep.Enabled || ep.DisabledAt != nil {
		t.Fatalf("after recovery: %+v", ep)
	}
	for _, id := range []string{d1, d2} {
		if s := h.deliveryStatus(h.team, id); s != store.StatusPending {
			t.Fatalf("delivery %s is %s after recovery", id, s)
		}
	}
	if n := h.count("audit_log", "action = 'endpoint.recover' AND target_id = ?", w.ep.ID); n != 1 {
		t.Fatalf("%d recover audit rows", n)
	}

	// Another team's endpoint is not found.
	other := h.seedWorld(h.newTeam("Other"))
	wantStatus(t, member.post("/endpoints/"+other.ep.ID+"/recover", nil), 404)
}

func TestEndpointCircuitState(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	calm := h.endpoint(h.team, "http://127.0.0.1:9/calm", nil)
	viewer := h.signIn("viewer")
	wantBody(t, viewer.get("/endpoints/"+calm.ID), "Circuit", "closed")

	_, err := h.gate.Report(h.ctx(), w.ep.ID, delivery.Outcome{Status: 503, RetryAfter: 10 * time.Minute}, false)
	testenv.Must(t, err)
	r := viewer.get("/endpoints/" + w.ep.ID)
	wantBody(t, r, ">open<", "deliveries wait until")
	r = viewer.get("/endpoints")
	wantBody(t, r, "circuit", ">open<")
	if !strings.Contains(r.body, w.ep.URL) || strings.Index(r.body, w.ep.URL) > strings.Index(r.body, calm.URL) {
		t.Fatal("the endpoint with an open circuit is not listed first")
	}
	wantBody(t, viewer.get("/"), "Endpoints needing attention", w.ep.URL)
}

func TestEndpointLimitsForm(t *testing.T) {
	h := newHarness(t)
	member := h.signIn("member")
	for _, c := range []struct{ field, value, msg string }{
		{"rate_limit", "fast", "whole number of requests per second"},
		{"rate_limit", "-1", "between 0 (none) and 100000"},
		{"max_in_flight", "2.5", "whole number of requests"},
		{"max_in_flight", "10001", "between 0 (none) and 10000"},
	} {
		r := member.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/a"}, c.field: {c.value}})
		wantStatus(t, r, 422)
		wantBody(t, r, `id="err-`+c.field+`"`, c.msg, `value="`+c.value+`"`)
	}
	if n := h.count("endpoints", ""); n != 0 {
		t.Fatalf("%d endpoints after invalid posts", n)
	}
	r := member.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/a"}, "rate_limit": {"5"}, "max_in_flight": {"3"}})
	wantStatus(t, r, 303)
	page := member.follow(r)
	wantBody(t, page, "5 requests per second", "at most 3 at once")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")
	wantBody(t, member.get("/endpoints/"+id+"/edit"), `name="rate_limit" inputmode="numeric" value="5"`, `value="3"`)

	r = member.post("/endpoints/"+id, url.Values{"url": {"http://127.0.0.1:9/a"}, "rate_limit": {""}, "max_in_flight": {"0"}})
	wantStatus(t, r, 303)
	ep, err := h.relay.Store().GetEndpoint(h.ctx(), h.team, id)
	testenv.Must(t, err)
	if ep.RateLimit != 0 || ep.MaxInFlight != 0 {
		t.Fatalf("limits not cleared: %d/s, %d in flight", ep.RateLimit, ep.MaxInFlight)
	}
	wantBody(t, member.get("/endpoints/"+id), "Rate limit</dt><dd>none", "no cap")
}
