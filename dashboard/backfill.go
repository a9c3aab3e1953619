package dashboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// setSourceAPIKey saves (or, empty, removes) a Stripe source's API key for
// backfills. The key is sealed and never shown again.
func (d *Dashboard) setSourceAPIKey(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	key := strings.Clone(c.FormValue("api_key"))
	if _, err := d.Relay.UpdateSource(c.UserContext(), actor(c), src.ID, relay.SourceInput{APIKey: &key}); err != nil {
		data, derr := d.sourceData(c, src)
		if derr != nil {
			return derr
		}
		return d.invalid(c, "source", data, err)
	}
	msg := "API key saved. It is encrypted and will not be shown again."
	if strings.TrimSpace(key) == "" {
		msg = "API key removed."
	}
	return d.redirect(c, "/sources/"+src.ID, msg)
}

// startBackfill starts a backfill job of a Stripe source; its page shows
// the progress.
func (d *Dashboard) startBackfill(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	since, err := parseSinceForm(c.FormValue("since"), d.Relay.Now())
	if err == nil {
		var j *store.BackfillJob
		if j, err = d.Relay.StartBackfill(c.UserContext(), actor(c), src.ID, since); err == nil {
			return d.redirect(c, "/backfills/"+j.ID, "Backfill started in the background.")
		}
	}
	data, derr := d.sourceData(c, src)
	if derr != nil {
		return derr
	}
	data["Since"] = c.FormValue("since")
	return d.invalid(c, "source", data, err)
}

// parseSinceForm reads the form's since: a date and time from the
// browser's picker (UTC), RFC 3339, or a number of days back.
func parseSinceForm(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	var days int
	if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && days > 0 {
		return now.Add(-time.Duration(days) * 24 * time.Hour), nil
	}
	return time.Time{}, &relay.ValidationError{Field: "since", Msg: "want a date and time (UTC) or a number of days such as 3d"}
}

// backfillPage shows a job's progress; the progress part refreshes itself.
func (d *Dashboard) backfillPage(c *fiber.Ctx) error {
	j, err := d.Relay.Store().GetBackfillJob(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "Backfill " + j.ID, "Nav": "sources", "Job": j, "Live": "/backfills/" + j.ID + "?fragment=1"}
	if isFragment(c) {
		return d.fragment(c, "backfill_show", "backfill-progress", data)
	}
	return d.render(c, "backfill_show", data)
}

// cancelBackfill stops a running job after its current page.
func (d *Dashboard) cancelBackfill(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	j, err := d.Relay.CancelBackfill(c.UserContext(), actor(c), id)
	if fe := fieldError(err); fe != nil {
		return d.redirectErr(c, "/backfills/"+id, "Not cancelled: "+fe.Msg+".")
	}
	if err != nil {
		return err
	}
	return d.redirect(c, "/backfills/"+id, fmt.Sprintf("Cancelled after %d pages (%d events ingested).", j.Pages, j.Ingested))
}
