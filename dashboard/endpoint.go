package dashboard

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

func (d *Dashboard) getEndpoint(c *fiber.Ctx) (*store.Endpoint, error) {
	return d.Relay.Store().GetEndpoint(c.UserContext(), current(c).TeamID, c.Params("id"))
}

// endpointData is what the endpoint page shows.
func (d *Dashboard) endpointData(c *fiber.Ctx, ep *store.Endpoint) (fiber.Map, error) {
	ctx, team := c.UserContext(), current(c).TeamID
	st := d.Relay.Store()
	srcs, err := st.ListSources(ctx, team)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	var testTypes []string
	for _, s := range srcs {
		names[s.ID] = s.Name
		if len(ep.SourceIDs) > 0 && s.ID == ep.SourceIDs[0] {
			testTypes = relay.TestEventTypes(s.Provider) // the test event's source
		}
	}
	health, err := st.EndpointsHealth(ctx, team, d.Relay.Now().Add(-23*time.Hour), 24)
	if err != nil {
		return nil, err
	}
	recent, err := st.RecentDeliveries(ctx, team, ep.ID, 20)
	if err != nil {
		return nil, err
	}
	tests, err := d.testEventsOf(ctx, team, recent)
	if err != nil {
		return nil, err
	}
	return fiber.Map{"Title": ep.URL, "Nav": "endpoints", "Endpoint": ep, "SourceNames": names,
		"Health": health[ep.ID], "Deliveries": recent, "TestEvents": tests, "Secrets": d.Relay.MaskSecrets(ep.ID, ep.Secrets),
		"PublicKeys": d.Relay.PublicKeys(ep.ID, ep.Secrets), "TestType": relay.DefaultTestEventType, "TestTypes": testTypes,
		"Circuit": d.circuitOf(c, ep.ID)}, nil
}

func (d *Dashboard) endpointPage(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	data, err := d.endpointData(c, ep)
	if err == nil {
		err = d.missedData(c, ep, data)
	}
	if err != nil {
		return err
	}
	if t := c.Query("test"); strings.HasPrefix(t, "evt_") {
		data["TestEvent"] = t
	}
	if sec := d.takeOnce(c); sec != "" {
		data["Revealed"] = []string{sec}
		data["NewSecret"] = true
	}
	return d.render(c, "endpoint", data)
}

func (d *Dashboard) editEndpointPage(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	data, err := d.endpointFormData(c, "Edit endpoint", endpointFormOf(ep))
	if err != nil {
		return err
	}
	data["Endpoint"] = ep
	return d.render(c, "endpointedit", data)
}

func (d *Dashboard) updateEndpoint(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	f := readEndpointForm(c)
	f.KeyType = "" // fixed at creation
	data, err := d.endpointFormData(c, "Edit endpoint", f)
	if err != nil {
		return err
	}
	data["Endpoint"] = ep
	in, errs := d.checkEndpointForm(c, f, ep) // every bad field at once
	if len(errs) > 0 {
		return d.invalidAll(c, "endpointedit", data, errs)
	}
	if _, err = d.Relay.UpdateEndpoint(c.UserContext(), actor(c), ep.ID, in); err != nil {
		return d.invalid(c, "endpointedit", data, err)
	}
	return d.redirect(c, "/endpoints/"+ep.ID, "Endpoint saved.")
}

func (d *Dashboard) setEndpointEnabled(enabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ep, err := d.Relay.SetEndpointEnabled(c.UserContext(), actor(c), c.Params("id"), enabled)
		if err != nil {
			return err
		}
		msg := "Endpoint disabled: nothing is sent to it until it is enabled."
		if enabled {
			msg = "Endpoint enabled."
		}
		return d.redirect(c, "/endpoints/"+ep.ID, msg)
	}
}

func (d *Dashboard) deleteEndpoint(c *fiber.Ctx) error {
	if err := d.Relay.DeleteEndpoint(c.UserContext(), actor(c), c.Params("id")); err != nil {
		return err
	}
	return d.redirect(c, "/endpoints", "Endpoint deleted; its pending deliveries were cancelled.")
}

// revealEndpointSecret shows the signing secrets in this response only.
func (d *Dashboard) revealEndpointSecret(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	pts, err := d.Relay.RevealSecrets(c.UserContext(), actor(c), "endpoint", ep.ID, ep.Secrets)
	if err != nil {
		return err
	}
	data, err := d.endpointData(c, ep)
	if err != nil {
		return err
	}
	data["Revealed"] = pts
	return d.render(c, "endpoint", data)
}

// rotateEndpointSecret makes a new secret and shows it once; the old one
// keeps signing alongside it for the grace period.
func (d *Dashboard) rotateEndpointSecret(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	sec, err := d.Relay.RotateEndpointSecret(c.UserContext(), actor(c), id, 0)
	if err != nil {
		return err
	}
	return d.redirectOnce(c, "/endpoints/"+id, "Secret rotated. The previous one keeps signing during the grace period.", sec)
}

// sendTestEvent sends a Stripe-shaped event through the real pipeline.
func (d *Dashboard) sendTestEvent(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	ev, _, err := d.Relay.SendTestEvent(c.UserContext(), actor(c), ep.ID, c.FormValue("event_type"))
	if err != nil {
		data, derr := d.endpointData(c, ep)
		if derr != nil {
			return derr
		}
		data["TestType"] = c.FormValue("event_type")
		return d.invalid(c, "endpoint", data, err)
	}
	return d.redirect(c, "/endpoints/"+ep.ID+"?test="+ev.ID, "Test event "+ev.ID+" sent.")
}
