package dashboard_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// missedEvent stores an event from w's source with no delivery at all, as
// ingest does while the endpoint is disabled.
func (h *harness) missedEvent(w *world, typ string) string {
	h.t.Helper()
	e := &store.Event{ID: store.NewID("evt"), TeamID: w.team, SourceID: w.src.ID, ReceivedAt: time.Now().UTC(),
		EventType: typ, ContentType: "application/json", Body: []byte(`{}`), Verified: true}
	_, err := store.New(h.db).InsertEvent(h.ctx(), e)
	testenv.Must(h.t, err)
	return e.ID
}

func TestEndpointMissedEventsAndReplay(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	viewer, member := h.signIn("viewer"), h.signIn("member")
	path := "/endpoints/" + w.ep.ID

	wantStatus(t, member.post(path+"/disable", nil), 303)
	h.missedEvent(w, "invoice.paid")
	h.missedEvent(w, "charge.succeeded")
	r := viewer.get(path)
	wantBody(t, r, "2 events arrived while this endpoint was disabled")
	if strings.Contains(r.body, `action="`+path+`/replay"`) {
		t.Fatal("viewer is offered the replay")
	}
	wantStatus(t, viewer.post(path+"/replay", url.Values{"action": {"preview"}}), 403)

	// A preview counts and changes nothing; a start is refused while disabled.
	r = member.post(path+"/replay", url.Values{"action": {"preview"}})
	wantStatus(t, r, 200)
	wantBody(t, r, "2 events since", "would be sent")
	r = member.post(path+"/replay", url.Values{"action": {"start"}})
	wantStatus(t, r, 422)
	wantBody(t, r, "is disabled: enable it")
	r = member.post(path+"/replay", url.Values{"action": {"preview"}, "since": {"yesterday"}})
	wantStatus(t, r, 422)
	wantBody(t, r, "want a time like")
	if n := h.count("bulk_jobs", ""); n != 0 {
		t.Fatalf("%d jobs after a preview and refused starts", n)
	}

	wantStatus(t, member.post(path+"/enable", nil), 303)
	r = member.get(path)
	wantBody(t, r, "2 events arrived while this endpoint was disabled", `href="#replay"`)
	r = member.post(path+"/replay", url.Values{"action": {"start"}})
	wantStatus(t, r, 303)
	if !strings.HasPrefix(r.header.Get("Location"), "/bulk/bulk_") {
		t.Fatalf("replay redirected to %q", r.header.Get("Location"))
	}
	wantBody(t, member.follow(r), "Replaying 2 missed events", "replay of missed events", "0 of 2 missed events replayed")
	for action, want := range map[string]int{"endpoint.disable": 1, "endpoint.enable": 1, "endpoint.replay": 1, "endpoint.update": 0} {
		if n := h.count("audit_log", "action = ? AND target_id = ?", action, w.ep.ID); n != want {
			t.Errorf("%d %s audit rows, want %d", n, action, want)
		}
	}
	wantBody(t, member.get("/bulk"), "replay")
}

// Pause and resume from the endpoint page; a redelivery says what will
// really happen to it (held, waiting for the circuit, or failed unsent).
func TestEndpointPauseAndRedeliverNotes(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	_, dl := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	viewer, member := h.signIn("viewer"), h.signIn("member")
	path := "/endpoints/" + w.ep.ID
	redeliver := func() string {
		t.Helper()
		r := member.post("/deliveries/"+dl+"/redeliver", nil)
		wantStatus(t, r, 303)
		return member.follow(r).body
	}
	if b := redeliver(); !strings.Contains(b, "a new attempt starts now") {
		t.Fatalf("plain redelivery note:\n%.2000s", b)
	}

	if strings.Contains(viewer.get(path).body, `action="`+path+`/pause"`) {
		t.Fatal("viewer is offered pause")
	}
	wantStatus(t, viewer.post(path+"/pause", nil), 403)
	r := member.post(path+"/pause", nil)
	wantStatus(t, r, 303)
	r = member.follow(r)
	wantBody(t, r, "Endpoint paused", ">paused<", `action="`+path+`/resume"`)
	wantBody(t, viewer.get("/endpoints"), ">paused<")
	if b := redeliver(); !strings.Contains(b, "held until the endpoint is resumed") {
		t.Fatalf("paused redelivery note:\n%.2000s", b)
	}
	r = member.post(path+"/resume", nil)
	wantStatus(t, r, 303)
	wantBody(t, member.follow(r), "Endpoint resumed", `action="`+path+`/pause"`)
	if n := h.count("audit_log", "action IN ('endpoint.pause', 'endpoint.resume') AND target_id = ?", w.ep.ID); n != 2 {
		t.Fatalf("%d pause/resume audit rows", n)
	}

	_, err := h.gate.Report(h.ctx(), w.ep.ID, delivery.Outcome{Status: 503, RetryAfter: 10 * time.Minute}, false)
	testenv.Must(t, err)
	if b := redeliver(); !strings.Contains(b, "circuit is open, so the attempt waits until about") {
		t.Fatalf("circuit redelivery note:\n%.2000s", b)
	}
	wantStatus(t, member.post(path+"/disable", nil), 303)
	if b := redeliver(); !strings.Contains(b, "the endpoint is disabled: the delivery will be marked failed") {
		t.Fatalf("disabled redelivery note:\n%.2000s", b)
	}
}

// "Last attempt" is the endpoint's newest attempt, even when it was made
// for an older delivery (a redelivery) than its newest one.
func TestEndpointLastAttemptIsNewestAttempt(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	_, older := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	time.Sleep(2 * time.Millisecond)
	_, newer := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	now := time.Now().UTC()
	// The newer delivery's only attempt is an hour old (HTTP 500); the
	// older delivery was redelivered just now and got a 200.
	_, err := h.db.NewRaw(`UPDATE delivery_attempts SET started_at = ? WHERE delivery_id = ?`, now.Add(-time.Hour), newer).Exec(h.ctx())
	testenv.Must(t, err)
	st := store.New(h.db)
	_, err = h.db.NewRaw(`UPDATE deliveries SET attempts = 2 WHERE id = ?`, older).Exec(h.ctx())
	testenv.Must(t, err)
	testenv.Must(t, st.FinishAttempt(h.ctx(), &store.Attempt{DeliveryID: older, N: 2, StartedAt: now, DurationMS: 5,
		URL: w.ep.URL, ResponseStatus: 200}, store.Outcome{Status: store.StatusSucceeded, LastStatus: 200}, now))
	_, err = h.db.NewRaw(`UPDATE deliveries SET updated_at = ? WHERE id = ?`, now.Add(-time.Hour), newer).Exec(h.ctx())
	testenv.Must(t, err)

	r := h.signIn("viewer").get("/endpoints/" + w.ep.ID)
	m := regexp.MustCompile(`last attempt ([^<(]*)\(HTTP (\d+)\)`).FindStringSubmatch(r.body)
	if m == nil || m[2] != "200" || strings.Contains(m[1], "hour") {
		t.Fatalf("last attempt %q, want the 200 just now:\n%.3000s", m, r.body)
	}
}
