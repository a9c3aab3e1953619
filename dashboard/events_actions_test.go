package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestRedeliverRolesAndCSRF(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	evt, dlv := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	viewer, member := h.signIn("viewer"), h.signIn("member")
	audits := func() int { return h.count("audit_log", "action LIKE '%redeliver%' OR action LIKE 'bulk.%'") }

	for _, p := range []string{"/deliveries/" + dlv + "/redeliver", "/events/" + evt + "/redeliver", "/bulk"} {
		wantStatus(t, viewer.post(p, nil), 403)
		wantStatus(t, member.post(p, url.Values{"_csrf": {"forged"}}), 403)
		wantStatus(t, member.post(p, url.Values{"_csrf": {""}}), 403)
	}
	if s := h.deliveryStatus(h.team, dlv); s != store.StatusFailed || audits() != 0 || h.count("bulk_jobs", "") != 0 {
		t.Fatalf("refused actions changed something: status %s, %d audit rows", s, audits())
	}

	r := member.post("/deliveries/"+dlv+"/redeliver", nil)
	wantStatus(t, r, 303)
	if r.header.Get("Location") != "/deliveries/"+dlv || h.deliveryStatus(h.team, dlv) != store.StatusPending {
		t.Fatalf("redeliver: %q, status %s", r.header.Get("Location"), h.deliveryStatus(h.team, dlv))
	}
	if n := h.count("audit_log", "action = 'delivery.redeliver' AND target_id = ? AND actor = ?", dlv, "user:"+member.user.Email); n != 1 {
		t.Fatalf("%d delivery.redeliver audit rows", n)
	}
	wantStatus(t, member.post("/events/"+evt+"/redeliver", nil), 303)
	if n := h.count("audit_log", "action = 'event.redeliver' AND target_id = ?", evt); n != 1 {
		t.Fatalf("%d event.redeliver audit rows", n)
	}
	// The member sees the buttons the viewer does not.
	wantBody(t, member.get("/events/"+evt), "Redeliver to all")
	wantBody(t, member.get("/deliveries/"+dlv), ">Redeliver</button>")
}

func TestBulkPageStartAndCancel(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	h.events(w, "invoice.paid", store.StatusFailed, 3)
	h.events(w, "charge.failed", store.StatusFailed, 2)
	h.events(w, "invoice.paid", store.StatusSucceeded, 2)
	member, viewer := h.signIn("member"), h.signIn("viewer")

	r := member.get("/bulk?preview=1&type=invoice.paid&endpoint=" + w.ep.ID)
	wantStatus(t, r, 200)
	wantBody(t, r, "<strong>3</strong> failed deliveries match", "Redeliver 3 deliveries", `name="type" value="invoice.paid"`)
	wantBody(t, member.get("/bulk?preview=1&type=nothing"), "No failed deliveries match")
	r = member.get("/bulk?preview=1&since=2030-01-02T00:00&until=2030-01-01T00:00")
	wantStatus(t, r, 422)
	wantBody(t, r, "must be after since")

	r = member.post("/bulk", url.Values{"type": {"nothing"}})
	wantStatus(t, r, 422)
	wantBody(t, r, "no failed deliveries match")
	if h.count("bulk_jobs", "") != 0 {
		t.Fatal("a job was created for no match")
	}

	r = member.post("/bulk", url.Values{"type": {"invoice.paid"}, "endpoint": {w.ep.ID}, "source": {""}, "since": {""}, "until": {""}})
	wantStatus(t, r, 303)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/bulk/bulk_") {
		t.Fatalf("start redirects to %q", loc)
	}
	id := strings.TrimPrefix(loc, "/bulk/")
	j, err := store.New(h.db).GetBulkJob(h.ctx(), h.team, id)
	testenv.Must(t, err)
	if j.Total != 3 || j.Filter.EventType != "invoice.paid" || j.CreatedBy != "user:"+member.user.Email {
		t.Fatalf("job %+v", j)
	}
	wantBody(t, member.get(loc), "0 of 3 deliveries", ">Cancel</button>")
	wantBody(t, member.get("/bulk"), "/bulk/"+id, "0 / 3")

	wantStatus(t, viewer.post(loc+"/cancel", nil), 403)
	wantStatus(t, member.post(loc+"/cancel", url.Values{"_csrf": {"x"}}), 403)
	r = member.post(loc+"/cancel", nil)
	wantStatus(t, r, 303)
	if j, _ := store.New(h.db).GetBulkJob(h.ctx(), h.team, id); j.Status != store.BulkCancelled {
		t.Fatalf("after cancel: %+v", j)
	}
	wantStatus(t, member.post(loc+"/cancel", nil), 303) // already cancelled: a message, not an error page
	if n := h.count("audit_log", "action IN ('bulk.redeliver', 'bulk.cancel') AND target_id = ?", id); n != 2 {
		t.Fatalf("%d bulk audit rows", n)
	}
}

func TestTeamIsolation(t *testing.T) {
	h := newHarness(t)
	a := h.seedWorld(h.team)
	evt, dlv := h.event(a, "invoice.paid", store.StatusFailed, `{}`)
	job, err := h.relay.StartBulk(h.ctx(), relay.SystemActor(h.team), store.BulkFilter{})
	testenv.Must(t, err)
	teamB := h.newTeam("Team B")
	b := h.seedWorld(teamB)
	h.event(b, "invoice.paid", store.StatusFailed, `{}`)
	other := h.signIn("owner", teamB)

	for _, p := range []string{"/events/" + evt, "/deliveries/" + dlv, "/bulk/" + job.ID,
		"/deliveries/" + dlv + "?fragment=1", "/bulk/" + job.ID + "?fragment=1"} {
		wantStatus(t, other.get(p), 404)
	}
	for _, p := range []string{"/events/" + evt + "/redeliver", "/deliveries/" + dlv + "/redeliver", "/bulk/" + job.ID + "/cancel"} {
		wantStatus(t, other.post(p, nil), 404)
	}
	if h.deliveryStatus(h.team, dlv) != store.StatusFailed {
		t.Fatal("team B redelivered team A's delivery")
	}
	if j, _ := store.New(h.db).GetBulkJob(h.ctx(), h.team, job.ID); j.Status != store.BulkRunning {
		t.Fatal("team B cancelled team A's job")
	}
	// Lists, counts, jumps and the audit log show nothing of team A.
	for _, p := range []string{"/events", "/events?fragment=1", "/bulk", "/audit", "/audit.csv"} {
		if r := other.get(p); r.status != 200 || strings.Contains(r.body, evt) || strings.Contains(r.body, job.ID) {
			t.Fatalf("%s shows team A's data (status %d)", p, r.status)
		}
	}
	wantStatus(t, other.get("/events?id="+evt), 422)
	wantBody(t, other.get("/bulk?preview=1&endpoint="+a.ep.ID), "No failed deliveries match")
}
