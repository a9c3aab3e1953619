package dashboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// pauseEndpoint holds the endpoint's deliveries until it is resumed.
func (d *Dashboard) pauseEndpoint(c *fiber.Ctx) error {
	ep, err := d.Relay.PauseEndpoint(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return d.redirect(c, "/endpoints/"+ep.ID, "Endpoint paused: new events still create deliveries, held until you resume it.")
}

// resumeEndpoint releases what a pause held.
func (d *Dashboard) resumeEndpoint(c *fiber.Ctx) error {
	ep, n, err := d.Relay.ResumeEndpoint(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return d.redirect(c, "/endpoints/"+ep.ID, fmt.Sprintf("Endpoint resumed: %d held deliveries are being sent.", n))
}

// replayForm is the replay form's input.
func replayForm(c *fiber.Ctx) (relay.ReplayInput, map[string]string, error) {
	f := map[string]string{"since": strings.TrimSpace(c.FormValue("since")), "include_failed": c.FormValue("include_failed")}
	since, err := parseWhen("since", f["since"])
	return relay.ReplayInput{Since: since, IncludeFailed: f["include_failed"] != ""}, f, err
}

// replayEndpoint counts (action=preview) or starts a replay of the events
// the endpoint missed; a started job is followed on its bulk job page.
func (d *Dashboard) replayEndpoint(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	in, f, err := replayForm(c)
	preview := c.FormValue("action") == "preview"
	var p relay.ReplayPreview
	if err == nil && preview {
		p, err = d.Relay.PreviewReplay(c.UserContext(), actor(c), ep.ID, in)
	}
	if err == nil && !preview {
		var j *store.BulkJob
		if j, err = d.Relay.StartReplay(c.UserContext(), actor(c), ep.ID, in); err == nil {
			return d.redirect(c, "/bulk/"+j.ID, fmt.Sprintf("Replaying %d missed events to %s in the background.", j.Total, ep.URL))
		}
	}
	data, derr := d.endpointData(c, ep)
	if derr == nil {
		derr = d.missedData(c, ep, data)
	}
	if derr != nil {
		return derr
	}
	data["ReplayForm"] = f
	if err != nil {
		return d.invalid(c, "endpoint", data, err)
	}
	data["ReplayPreview"] = &p
	return d.render(c, "endpoint", data)
}

// heldNote says what will really happen to a delivery queued for ep now:
// a disabled endpoint fails it unsent, a paused one holds it, an open
// circuit makes it wait.
func heldNote(ep *store.Endpoint, circ *circuit, now time.Time) string {
	switch {
	case ep == nil:
		return "Redelivery queued: a new attempt starts now."
	case !ep.Enabled:
		return "Redelivery queued, but the endpoint is disabled: the delivery will be marked failed without a request. Enable the endpoint, then redeliver."
	case ep.PausedAt != nil:
		return "Redelivery queued: the endpoint is paused, so it is held until the endpoint is resumed."
	case circ.Open() && circ.Until.After(now):
		return "Redelivery queued: the endpoint's circuit is open, so the attempt waits until about " + datetime(circ.Until) + "."
	}
	return "Redelivery queued: a new attempt starts now."
}

// missedData adds to the endpoint page how many events arrived while the
// endpoint was last disabled and were never delivered to it.
func (d *Dashboard) missedData(c *fiber.Ctx, ep *store.Endpoint, data fiber.Map) error {
	n, more, err := d.Relay.MissedEvents(c.UserContext(), ep)
	if err != nil {
		return err
	}
	data["Missed"], data["MissedMore"] = n, more
	return nil
}
