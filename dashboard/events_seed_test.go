package dashboard_test

import (
	"slices"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// world is a team's source and endpoint with stored events.
type world struct {
	team string
	src  *store.Source
	ep   *store.Endpoint
}

// seedWorld creates a Stripe source and a loopback endpoint in team.
func (h *harness) seedWorld(team string) *world {
	h.t.Helper()
	a := relay.SystemActor(team)
	name, kind, sec := "Stripe live", "stripe", "whsec_dashboard_test_secret"
	src, err := h.relay.CreateSource(h.ctx(), a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(h.t, err)
	url, ids := "http://127.0.0.1:1/hook", []string{src.ID}
	ep, _, err := h.relay.CreateEndpoint(h.ctx(), a, relay.EndpointInput{URL: &url, SourceIDs: &ids})
	testenv.Must(h.t, err)
	return &world{team: team, src: src, ep: ep}
}

// event stores an event of typ with one delivery in status and one
// failed attempt, and returns the event and delivery ids.
func (h *harness) event(w *world, typ, status string, body string) (string, string) {
	h.t.Helper()
	st, now := store.New(h.db), time.Now().UTC()
	pid := "evt_provider_" + store.NewID("x")
	e := &store.Event{ID: store.NewID("evt"), TeamID: w.team, SourceID: w.src.ID, ReceivedAt: now,
		ProviderEventID: &pid, EventType: typ, ContentType: "application/json",
		Headers: map[string][]string{"Stripe-Signature": {"t=1,v1=abc"}}, Body: []byte(body), Verified: true}
	_, err := st.InsertEvent(h.ctx(), e)
	testenv.Must(h.t, err)
	d := store.Delivery{ID: store.NewID("dlv"), TeamID: w.team, EventID: e.ID, EndpointID: w.ep.ID, Status: status,
		Attempts: 1, LastStatus: 500, LastError: "endpoint answered 500", CreatedAt: now, UpdatedAt: now}
	testenv.Must(h.t, st.InsertDeliveries(h.ctx(), []store.Delivery{d}))
	a := &store.Attempt{DeliveryID: d.ID, N: 1, StartedAt: now, DurationMS: 12, URL: w.ep.URL, ResponseStatus: 500,
		RequestHeaders: map[string][]string{"Webhook-Id": {e.ID}}, ResponseHeaders: map[string][]string{"X-Sink": {"yes"}},
		ResponseBody: []byte("sink says no"), Error: "endpoint answered 500"}
	testenv.Must(h.t, st.FinishAttempt(h.ctx(), a, store.Outcome{Status: status, LastStatus: 500, LastError: a.Error}, now))
	return e.ID, d.ID
}

// events stores n events and returns their ids, newest first (the list order).
func (h *harness) events(w *world, typ, status string, n int) []string {
	var ids []string
	for range n {
		id, _ := h.event(w, typ, status, `{"type":"`+typ+`"}`)
		ids = append(ids, id)
		time.Sleep(time.Millisecond) // ids minted in one millisecond are unordered
	}
	slices.Reverse(ids)
	return ids
}

func (h *harness) deliveryStatus(team, id string) string {
	h.t.Helper()
	d, err := store.New(h.db).GetDelivery(h.ctx(), team, id)
	testenv.Must(h.t, err)
	return d.Status
}
