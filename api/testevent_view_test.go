package api_test

import (
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 5: the API tells a test event apart ("test": true), and
// the event type filter takes a * pattern.
func TestEventViewMarksTestEvents(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("Stripe")
	ep := e.createEndpoint("http://127.0.0.1:1/hook", nil, str(src, "id"))
	real := e.ingestStripe(str(src, "ingest_url"), "evt_api_real", "invoice.paid")
	ev, _, err := e.relay.SendTestEvent(e.t.Context(), relay.SystemActor(e.team), str(ep, "id"), "payment_intent.succeeded")
	testenv.Must(t, err)
	var got obj
	e.call("GET", "/api/v1/events/"+ev.ID, nil, 200, &got)
	if got["test"] != true {
		t.Fatalf("a test event's view: %v", got["test"])
	}
	e.call("GET", "/api/v1/events/"+real, nil, 200, &got)
	if _, ok := got["test"]; ok {
		t.Fatalf("a real event's view has test: %v", got["test"])
	}
	items := list(t, e.do("GET", "/api/v1/events?event_type=invoice.*", e.token, nil))
	if len(items) != 1 || str(items[0], "id") != real {
		t.Fatalf("event_type=invoice.* lists %v", items)
	}
}
