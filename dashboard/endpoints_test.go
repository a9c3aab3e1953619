package dashboard_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
	"github.com/hookrelay/hookrelay/worker"
)

// endpoint creates an endpoint in team subscribed to src.
func (h *harness) endpoint(team, u string, src *store.Source) *store.Endpoint {
	h.t.Helper()
	in := relay.EndpointInput{URL: &u}
	if src != nil {
		ids := []string{src.ID}
		in.SourceIDs = &ids
	}
	ep, _, err := h.relay.CreateEndpoint(h.ctx(), relay.SystemActor(team), in)
	testenv.Must(h.t, err)
	return ep
}

// startWorker runs a real asynq worker whose client may dial loopback.
func (h *harness) startWorker() {
	guard := delivery.NewGuard(loopback)
	wr := relay.New(relay.Deps{Store: store.New(h.db), Box: h.box, Guard: guard,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/test"})}, h.opts)
	w := worker.New(wr, h.redis, slog.New(slog.DiscardHandler), worker.Options{Concurrency: 2,
		PollInterval: 10 * time.Millisecond, DelayedCheckInterval: 100 * time.Millisecond,
		SweepInterval: time.Second, ShutdownTimeout: 3 * time.Second})
	testenv.Must(h.t, w.Start())
	h.t.Cleanup(w.Shutdown)
}

func TestEndpointPagesAndForm(t *testing.T) {
	h := newHarness(t)
	src := h.source(h.team, "Stripe")
	ep := h.endpoint(h.team, "http://127.0.0.1:9/hooks", src)
	viewer, member := h.signIn("viewer"), h.signIn("member")
	r := viewer.get("/endpoints")
	wantStatus(t, r, 200)
	wantBody(t, r, "http://127.0.0.1:9/hooks", "no deliveries")
	r = viewer.get("/endpoints/" + ep.ID)
	wantStatus(t, r, 200)
	wantBody(t, r, "Admins and owners can reveal")
	wantStatus(t, viewer.get("/endpoints/new"), 403)
	wantStatus(t, viewer.post("/endpoints/"+ep.ID+"/disable", nil), 403)
	wantStatus(t, viewer.post("/endpoints/"+ep.ID+"/test", nil), 403)
	wantStatus(t, member.get("/endpoints/new"), 200)
	wantStatus(t, member.get("/endpoints/"+ep.ID+"/edit"), 200)

	for field, form := range map[string]url.Values{
		"url":            {"url": {"ftp://x"}},
		"headers":        {"url": {"http://127.0.0.1:9/a"}, "headers": {"no colon here"}},
		"timeout_ms":     {"url": {"http://127.0.0.1:9/a"}, "timeout_ms": {"soon"}},
		"retry_schedule": {"url": {"http://127.0.0.1:9/a"}, "retry_schedule": {"whenever"}},
	} {
		r := member.post("/endpoints", form)
		wantStatus(t, r, 422)
		wantBody(t, r, `id="err-`+field+`"`, "nothing was saved")
	}
	if n := h.count("endpoints", ""); n != 1 {
		t.Fatalf("%d endpoints after invalid posts", n)
	}
	wantStatus(t, member.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/b"}, "_csrf": {"bad"}}), 403)

	r = member.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/b"}, "source_ids": {src.ID},
		"event_types": {"invoice.*, charge.failed"}, "headers": {"X-Env: prod\nX-Team: a"}, "timeout_ms": {"5000"},
		"retry_schedule": {"1m,5m"}, "signing_scheme": {"stripe"}, "signing_key_type": {"hmac"}})
	wantStatus(t, r, 303) // redirect-after-POST: a reload does not create it again
	var got store.Endpoint
	testenv.Must(t, h.db.NewSelect().Model(&got).Where("url = 'http://127.0.0.1:9/b'").Scan(h.ctx()))
	if loc := r.header.Get("Location"); loc != "/endpoints/"+got.ID {
		t.Fatalf("created: location %q", loc)
	}
	// The new secret is shown once, on the page the redirect leads to,
	// and never audited as a reveal.
	page := member.follow(r)
	wantStatus(t, page, 200)
	wantBody(t, page, "Endpoint created.", "New signing secret", "whsec_")
	if strings.Contains(page.body, "recorded in the audit log") {
		t.Fatal("the create response calls itself an audited reveal")
	}
	sec := regexp.MustCompile(`value="(whsec_[^"]+)"`).FindStringSubmatch(page.body)
	if sec == nil {
		t.Fatalf("no secret field in:\n%s", page.body)
	}
	if again := member.get("/endpoints/" + got.ID); strings.Contains(again.body, sec[1]) {
		t.Fatal("secret shown again on a reload")
	}
	if n := h.count("audit_log", "action = 'endpoint.secret.reveal'"); n != 0 {
		t.Fatalf("%d reveal audit rows after a create", n)
	}
	// Header values are stored encrypted, bound to endpoint and name.
	header := func(ep *store.Endpoint, k string) string {
		pt, _ := h.box.OpenString(ep.Headers[k], []byte(ep.ID+"/header/"+k))
		return pt
	}
	if got.SigningScheme != "stripe" || got.TimeoutMS != 5000 || header(&got, "X-Env") != "prod" ||
		strings.Join(got.EventTypes, "|") != "invoice.*|charge.failed" {
		t.Fatalf("endpoint %+v", got)
	}

	// Header values are credentials: neither the page nor the edit form
	// shows them, and saving the form unchanged keeps them.
	viewer = h.signIn("viewer")
	for _, c := range []*client{viewer, member} {
		for _, p := range []string{"/endpoints/" + got.ID, "/endpoints/" + got.ID + "/edit"} {
			if b := c.get(p).body; strings.Contains(b, "prod") {
				t.Fatalf("%s shows a custom header value", p)
			}
		}
	}
	r = member.post("/endpoints/"+got.ID, url.Values{"url": {"http://127.0.0.1:9/b"}, "source_ids": {src.ID},
		"headers": {"X-Env: (unchanged)\nX-Team: b"}, "signing_scheme": {"stripe"}})
	wantStatus(t, r, 303)
	kept, err := h.relay.Store().GetEndpoint(h.ctx(), h.team, got.ID)
	testenv.Must(t, err)
	if kept.Headers["X-Env"] != got.Headers["X-Env"] || header(kept, "X-Env") != "prod" || header(kept, "X-Team") != "b" {
		t.Fatalf("headers after an edit: %v", kept.Headers)
	}
	r = member.post("/endpoints/"+got.ID, url.Values{"url": {"http://127.0.0.1:9/b"}, "headers": {"X-New: (unchanged)"}})
	wantStatus(t, r, 422)

	r = member.post("/endpoints/"+ep.ID, url.Values{"url": {"http://127.0.0.1:9/renamed"}, "description": {"billing"}})
	wantStatus(t, r, 303)
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/disable", nil), 303)
	full, err := h.relay.Store().GetEndpoint(h.ctx(), h.team, ep.ID)
	testenv.Must(t, err)
	if full.URL != "http://127.0.0.1:9/renamed" || full.Enabled || len(full.SourceIDs) != 0 {
		t.Fatalf("after edit: %+v", full)
	}
	r = member.get("/endpoints")
	wantBody(t, r, "disabled by a user")
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/delete", nil), 303)
}

func TestEndpointSecretsAndIsolation(t *testing.T) {
	h := newHarness(t)
	ep := h.endpoint(h.team, "http://127.0.0.1:9/a", nil)
	teamB := h.newTeam("B")
	epB := h.endpoint(teamB, "http://127.0.0.1:9/team-b-only", nil)
	member, admin := h.signIn("member"), h.signIn("admin")
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/reveal", nil), 403)
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/rotate", nil), 403)
	r := admin.post("/endpoints/"+ep.ID+"/reveal", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, "whsec_", "recorded in the audit log")
	r = admin.post("/endpoints/"+ep.ID+"/rotate", nil)
	wantStatus(t, r, 303)
	wantBody(t, admin.follow(r), "Secret rotated", "New signing secret", "whsec_")
	if other := member.follow(r); strings.Contains(other.body, "New signing secret") {
		t.Fatal("another session opened the once cookie")
	}
	if n := h.count("audit_log", "action IN ('endpoint.secret.reveal', 'endpoint.secret.rotate')"); n != 2 {
		t.Fatalf("%d secret audit rows", n)
	}

	r = admin.get("/endpoints")
	if strings.Contains(r.body, "team-b-only") {
		t.Fatal("team B's endpoint listed")
	}
	wantStatus(t, admin.get("/endpoints/"+epB.ID), 404)
	wantStatus(t, admin.get("/endpoints/"+epB.ID+"/edit"), 404)
	for _, p := range []string{"", "/enable", "/disable", "/delete", "/reveal", "/rotate", "/test"} {
		wantStatus(t, admin.post("/endpoints/"+epB.ID+p, url.Values{"url": {"http://127.0.0.1:9/x"}}), 404)
	}
	if n := h.count("audit_log", "team_id = ? AND action <> 'endpoint.create'", teamB); n != 0 {
		t.Fatalf("%d audit rows in team B", n)
	}
}

func TestSendTestEventThroughWorker(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	var got atomic.Value
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b) + "\n" + r.Header.Get("Webhook-Signature"))
	}))
	defer sink.Close()
	src := h.source(h.team, "Stripe")
	ep := h.endpoint(h.team, sink.URL+"/hook", src)
	other := h.endpoint(h.team, sink.URL+"/other", src) // must not get the test
	lonely := h.endpoint(h.team, sink.URL+"/lonely", nil)
	member := h.signIn("member")

	r := member.post("/endpoints/"+lonely.ID+"/test", nil)
	wantStatus(t, r, 422)
	wantBody(t, r, "subscribed to no source")
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/test", url.Values{"event_type": {"bad type"}}), 422)
	wantStatus(t, member.post("/endpoints/"+ep.ID+"/test", url.Values{"_csrf": {"x"}}), 403)
	if n := h.count("events", ""); n != 0 {
		t.Fatalf("%d events after refused tests", n)
	}

	r = member.post("/endpoints/"+ep.ID+"/test", url.Values{"event_type": {"invoice.paid"}})
	wantStatus(t, r, 303)
	loc := r.header.Get("Location")
	evID := strings.TrimPrefix(loc, "/endpoints/"+ep.ID+"?test=")
	if !strings.HasPrefix(evID, "evt_") {
		t.Fatalf("location %q", loc)
	}
	wantBody(t, member.get(loc), `href="/events/`+evID+`"`)
	// A Stripe source's page offers the fixtures' types (hookrelay trigger --list).
	wantBody(t, member.get(loc), `<option value="checkout.session.expired">`)
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	body, _ := got.Load().(string)
	if !strings.Contains(body, `"id": "evt_test_`) || !strings.Contains(body, `"api_version": "2023-10-16"`) ||
		!strings.Contains(body, `"type": "invoice.paid"`) || !strings.Contains(body, `"object": "invoice"`) || !strings.Contains(body, "v1,") {
		t.Fatalf("sink got %q", body)
	}
	if n := h.count("deliveries", "event_id = ?", evID); n != 1 {
		t.Fatalf("%d deliveries of the test event", n)
	}
	if n := h.count("deliveries", "endpoint_id = ?", other.ID); n != 0 {
		t.Fatal("test event delivered to another endpoint")
	}
	if n := h.count("audit_log", "action = 'endpoint.test_event' AND target_id = ?", ep.ID); n != 1 {
		t.Fatalf("%d test_event audit rows", n)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if h.count("deliveries", "event_id = ? AND status = 'succeeded'", evID) == 1 {
			return
		}
	}
	t.Fatal("test delivery not marked succeeded")
}
