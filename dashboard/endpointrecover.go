package dashboard

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// recoverEndpoint re-enables a disabled or failing endpoint and redelivers
// what failed since its trouble began, as one audited action.
func (d *Dashboard) recoverEndpoint(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	n, err := d.Relay.RecoverEndpoint(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	msg := "Endpoint enabled; no failed deliveries to redeliver."
	switch n {
	case 0:
	case 1:
		msg = "Endpoint enabled; 1 failed delivery queued for redelivery."
	default:
		msg = fmt.Sprintf("Endpoint enabled; %d failed deliveries queued for redelivery.", n)
	}
	return d.redirect(c, "/endpoints/"+id, msg)
}
