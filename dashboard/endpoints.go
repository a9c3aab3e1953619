package dashboard

import (
	"cmp"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// endpointRow is an endpoint with its health, for the list.
type endpointRow struct {
	store.Endpoint
	Health  *store.EndpointHealth
	Circuit *circuit // nil without a gate
}

// failing reports whether the endpoint needs attention: disabled, in a
// failure streak, with its circuit open, or with failures in the window.
func (r endpointRow) failing() bool {
	return !r.Enabled || r.FailingSince != nil || r.Circuit.Open() || (r.Health != nil && r.Health.Bad > 0)
}

// endpointRows loads the team's endpoints with 24 h health, failing first.
func (d *Dashboard) endpointRows(c *fiber.Ctx) ([]endpointRow, error) {
	ctx, team := c.UserContext(), current(c).TeamID
	eps, err := d.Relay.Store().ListEndpoints(ctx, team)
	if err != nil {
		return nil, err
	}
	health, err := d.Relay.Store().EndpointsHealth(ctx, team, d.Relay.Now().Add(-23*time.Hour), 24)
	if err != nil {
		return nil, err
	}
	rows := make([]endpointRow, len(eps))
	for i, ep := range eps {
		rows[i] = endpointRow{Endpoint: ep, Health: health[ep.ID], Circuit: d.circuitOf(c, ep.ID)}
	}
	slices.SortStableFunc(rows, func(a, b endpointRow) int {
		if a.failing() != b.failing() {
			if a.failing() {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return rows, nil
}

func (d *Dashboard) endpointsList(c *fiber.Ctx) error {
	rows, err := d.endpointRows(c)
	if err != nil {
		return err
	}
	return d.render(c, "endpoints", fiber.Map{"Title": "Endpoints", "Nav": "endpoints", "Endpoints": rows})
}

func (d *Dashboard) newEndpointPage(c *fiber.Ctx) error {
	data, err := d.endpointFormData(c, "New endpoint", endpointForm{SigningScheme: "standard-webhooks", KeyType: "hmac"})
	if err != nil {
		return err
	}
	return d.render(c, "endpointnew", data)
}

// createEndpoint stores the endpoint and redirects to its page, which
// shows the new signing secret once.
func (d *Dashboard) createEndpoint(c *fiber.Ctx) error {
	f := readEndpointForm(c)
	data, err := d.endpointFormData(c, "New endpoint", f)
	if err != nil {
		return err
	}
	in, errs := d.checkEndpointForm(c, f, nil)
	if len(errs) > 0 {
		return d.invalidAll(c, "endpointnew", data, errs)
	}
	ep, sec, err := d.Relay.CreateEndpoint(c.UserContext(), actor(c), in)
	if err != nil {
		return d.invalid(c, "endpointnew", data, err)
	}
	return d.redirectOnce(c, "/endpoints/"+ep.ID, "Endpoint created.", sec)
}
