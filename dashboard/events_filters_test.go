package dashboard_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 5: a test event is marked in the list, on its page and on
// its delivery's page, never called "signature verified", can be hidden or
// shown alone, and its body is of its type.
func TestTestEventsAreMarkedAndFiltered(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	real, _ := h.event(w, "invoice.paid", store.StatusFailed, `{"id":"evt_real"}`)
	// A Stripe source's test events are the stripefixture ones; another
	// source's customer.created must carry a customer too.
	a, name, kind := relay.SystemActor(h.team), "Generic", "none"
	gen, err := h.relay.CreateSource(h.ctx(), a, relay.SourceInput{Name: &name, Provider: &kind})
	testenv.Must(t, err)
	u, ids := "http://127.0.0.1:3/hook", []string{gen.ID}
	gep, _, err := h.relay.CreateEndpoint(h.ctx(), a, relay.EndpointInput{URL: &u, SourceIDs: &ids})
	testenv.Must(t, err)
	ev, dl, err := h.relay.SendTestEvent(h.ctx(), a, gep.ID, "customer.created")
	testenv.Must(t, err)
	var body struct {
		Type string `json:"type"`
		Data struct {
			Object struct {
				Object string `json:"object"`
			} `json:"object"`
		} `json:"data"`
	}
	testenv.Must(t, json.Unmarshal(ev.Body, &body))
	if body.Type != "customer.created" || body.Data.Object.Object != "customer" {
		t.Fatalf("a customer.created test event carries %s / %s", body.Type, body.Data.Object.Object)
	}
	v := h.signIn("viewer")

	r := v.get("/events")
	wantStatus(t, r, 200)
	row := rowOf(t, r.body, ev.ID)
	if !strings.Contains(row, `badge-test`) {
		t.Fatalf("the test event's row has no test badge: %s", row)
	}
	if strings.Contains(rowOf(t, r.body, real), "badge-test") {
		t.Fatal("a real event is marked as a test")
	}
	r = v.get("/events/" + ev.ID)
	wantBody(t, r, "badge-test")
	if strings.Contains(r.body, "signature verified") {
		t.Fatal("a test event's page says signature verified")
	}
	wantBody(t, v.get("/deliveries/"+dl.ID), "badge-test")

	r = v.get("/events?tests=exclude")
	wantStatus(t, r, 200)
	if strings.Contains(r.body, ev.ID) || !strings.Contains(r.body, real) {
		t.Fatal("tests=exclude does not hide exactly the test event")
	}
	r = v.get("/events?tests=only")
	if !strings.Contains(r.body, ev.ID) || strings.Contains(r.body, real) {
		t.Fatal("tests=only does not show exactly the test event")
	}
	wantStatus(t, v.get("/events?tests=maybe"), 422)
}

// Issue 11 item 9: type wildcards, the list of seen types, the endpoint
// filter and the provider's id in the list.
func TestEventFiltersWildcardEndpointProviderID(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	inv, _ := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	pi, _ := h.event(w, "payment_intent.succeeded", store.StatusFailed, `{}`)
	// A second endpoint with one event of its own.
	u, ids := "http://127.0.0.1:2/other", []string{w.src.ID}
	ep2, _, err := h.relay.CreateEndpoint(h.ctx(), relay.SystemActor(h.team), relay.EndpointInput{URL: &u, SourceIDs: &ids})
	testenv.Must(t, err)
	other, _ := h.event(&world{team: h.team, src: w.src, ep: ep2}, "invoice_item.created", store.StatusFailed, `{}`)
	odd, _ := h.event(w, "paymentXintent.succeeded", store.StatusFailed, `{}`)
	v := h.signIn("viewer")

	r := v.get("/events?type=" + url.QueryEscape("invoice.*"))
	wantStatus(t, r, 200)
	if !strings.Contains(r.body, inv) || strings.Contains(r.body, pi) || strings.Contains(r.body, other) {
		t.Fatal("type invoice.* does not match exactly invoice.paid")
	}
	r = v.get("/events?type=" + url.QueryEscape("payment_intent.*"))
	if !strings.Contains(r.body, pi) || strings.Contains(r.body, odd) {
		t.Fatal("type payment_intent.* does not match exactly payment_intent.succeeded (an _ is no wildcard)")
	}
	wantBody(t, r, `<datalist id="seen-types">`, `<option value="payment_intent.succeeded">`, `<option value="invoice_item.created">`)

	r = v.get("/events?endpoint=" + ep2.ID)
	wantStatus(t, r, 200)
	if !strings.Contains(r.body, other) || strings.Contains(r.body, inv) {
		t.Fatal("the endpoint filter does not keep exactly the endpoint's events")
	}

	e, err := store.New(h.db).GetEvent(h.ctx(), h.team, inv)
	testenv.Must(t, err)
	r = v.get("/events")
	if !strings.Contains(rowOf(t, r.body, inv), *e.ProviderEventID) {
		t.Fatal("the events list does not show the provider's event id")
	}
	r = v.get("/events?id=" + *e.ProviderEventID)
	wantStatus(t, r, 303)
	if r.header.Get("Location") != "/events/"+inv {
		t.Fatalf("search by the provider's id goes to %s", r.header.Get("Location"))
	}
}

// rowOf is the table row of body that links to id.
func rowOf(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `href="/events/`+id+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", id)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}
