package dashboard

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// attemptView is one attempt of the timeline.
type attemptView struct {
	store.Attempt
	Request, Response []header
	Body              string
}

// deliveryPage shows a delivery and every attempt as a timeline; its
// live part (status and attempts) refreshes itself while open.
func (d *Dashboard) deliveryPage(c *fiber.Ctx) error {
	ctx, team, st := c.UserContext(), current(c).TeamID, d.Relay.Store()
	dl, err := st.GetDelivery(ctx, team, c.Params("id"))
	if err != nil {
		return err
	}
	atts, err := st.AttemptsOfDelivery(ctx, dl)
	if err != nil {
		return err
	}
	// Newest first: the latest answer is what people open the page for.
	views := make([]attemptView, len(atts))
	for i, a := range atts {
		views[len(atts)-1-i] = attemptView{Attempt: a, Request: headerList(a.RequestHeaders),
			Response: headerList(a.ResponseHeaders), Body: asText(a.ResponseBody)}
	}
	data := fiber.Map{"Title": "Delivery " + dl.ID, "Nav": "events", "Delivery": dl, "Attempts": views,
		"Live": "/deliveries/" + dl.ID + "?fragment=1"}
	if isFragment(c) {
		return d.fragment(c, "deliveries_show", "delivery-live", data)
	}
	e, err := st.GetEvent(ctx, team, dl.EventID)
	if err != nil {
		return err
	}
	data["Event"] = e
	data["URL"] = ""
	var circ *circuit
	ep, err := st.GetEndpoint(ctx, team, dl.EndpointID)
	if err == nil {
		data["URL"] = ep.URL
		circ = d.circuitOf(c, ep.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	} else {
		ep = nil
	}
	data["RedeliverHint"] = redeliverHint(ep, circ, d.Relay.Now())
	return d.render(c, "deliveries_show", data)
}

// redeliverHint says, next to the Redeliver button, what a redelivery
// will really do: go now, or wait for the endpoint (heldNote says the
// same once it is queued).
func redeliverHint(ep *store.Endpoint, circ *circuit, now time.Time) string {
	switch {
	case ep == nil:
	case !ep.Enabled:
		return "The endpoint is disabled: a new attempt would be marked failed without a request. Enable the endpoint first."
	case ep.PausedAt != nil:
		return "The endpoint is paused: a new attempt waits until it is resumed."
	case circ.Open() && circ.Until.After(now):
		return "The endpoint's circuit is open: a new attempt waits until about " + datetime(circ.Until) + "."
	}
	return "Sends a new attempt now, whatever the status."
}

// redeliverDelivery sends a new attempt of the delivery now, and says
// when it will really go (heldNote).
func (d *Dashboard) redeliverDelivery(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	dl, err := d.Relay.Redeliver(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	ep, err := d.Relay.Store().GetEndpoint(c.UserContext(), current(c).TeamID, dl.EndpointID)
	if err != nil {
		ep = nil // deleted since: Redeliver refused that already
	}
	var circ *circuit
	if ep != nil {
		circ = d.circuitOf(c, ep.ID)
	}
	return d.redirect(c, "/deliveries/"+id, heldNote(ep, circ, d.Relay.Now()))
}
