package dashboard

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/delivery"
)

// circuit is an endpoint's circuit-breaker state, for its page and the list.
type circuit struct {
	State delivery.BreakerState
	Until time.Time // open: when the next probe may go
}

// Open reports a circuit that holds deliveries back now.
func (c *circuit) Open() bool { return c != nil && c.State == delivery.BreakerOpen }

// circuitOf reads an endpoint's circuit from the gate; nil without a gate
// or when Redis does not answer (the page then just leaves it out: it is
// an accelerator's state, not the endpoint's record).
func (d *Dashboard) circuitOf(c *fiber.Ctx, endpointID string) *circuit {
	if d.Gate == nil {
		return nil
	}
	st, until, err := d.Gate.State(c.UserContext(), endpointID)
	if err != nil {
		d.Logger.Warn("dashboard_circuit_state", slog.String("endpoint_id", endpointID), slog.Any("error", err))
		return nil
	}
	return &circuit{State: st, Until: until}
}
