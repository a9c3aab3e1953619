package dashboard

import (
	"cmp"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// sourceData is what the source page shows.
func (d *Dashboard) sourceData(c *fiber.Ctx, src *store.Source) (fiber.Map, error) {
	ctx, team := c.UserContext(), current(c).TeamID
	rejected, err := d.Relay.Store().ListRejected(ctx, team, src.ID, 50)
	if err != nil {
		return nil, err
	}
	events, err := d.Relay.Store().ListEvents(ctx, store.EventFilter{TeamID: team, SourceID: src.ID, Limit: 10})
	if err != nil {
		return nil, err
	}
	backfills, err := d.Relay.Store().ListBackfillJobs(ctx, team, src.ID, 5)
	if err != nil {
		return nil, err
	}
	masked := d.Relay.MaskSecrets(src.ID, src.Secrets)
	warn := ""
	for _, m := range masked {
		warn = cmp.Or(warn, relay.SecretWarning(src.Provider, m.Hint))
	}
	return fiber.Map{"Title": src.Name, "Nav": "sources", "Source": src, "IngestURL": d.Relay.IngestURL(d.PublicURL, src),
		"Secrets": masked, "SecretWarning": warn, "Rejected": rejected, "Events": events,
		"Form": map[string]string{}, "Backfills": backfills, "Since": "3d"}, nil
}

func (d *Dashboard) sourcePage(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	data, err := d.sourceData(c, src)
	if err != nil {
		return err
	}
	return d.render(c, "source", data)
}

func (d *Dashboard) editSourcePage(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	m := configToMap(src.Config)
	m["name"] = src.Name
	data := sourceFormData("Edit "+src.Name, src.Provider, m)
	data["Source"] = src
	return d.render(c, "sourceedit", data)
}

// updateSource saves the name and the verification settings; the secret
// is rotated separately (admins only).
func (d *Dashboard) updateSource(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	m := sourceFormValues(c)
	data := sourceFormData("Edit "+src.Name, src.Provider, m)
	data["Source"] = src
	cfg, err := sourceConfig(src.Provider, m)
	if err != nil {
		return d.invalid(c, "sourceedit", data, err)
	}
	name := m["name"]
	if _, err := d.Relay.UpdateSource(c.UserContext(), actor(c), src.ID, relay.SourceInput{Name: &name, Config: cfg}); err != nil {
		return d.invalid(c, "sourceedit", data, err)
	}
	return d.redirect(c, "/sources/"+src.ID, "Source saved.")
}

func (d *Dashboard) deleteSource(c *fiber.Ctx) error {
	if err := d.Relay.DeleteSource(c.UserContext(), actor(c), c.Params("id")); err != nil {
		return err
	}
	return d.redirect(c, "/sources", "Source deleted. Its events stay in the log.")
}

// revealSourceSecret shows the plaintext secrets once, in this response
// only, and writes the audit row.
func (d *Dashboard) revealSourceSecret(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	pts, err := d.Relay.RevealSecrets(c.UserContext(), actor(c), "source", src.ID, src.Secrets)
	if err != nil {
		return err
	}
	data, err := d.sourceData(c, src)
	if err != nil {
		return err
	}
	data["Revealed"] = pts
	return d.render(c, "source", data)
}

// rotateSourceSecret stores the provider's new secret; the old one keeps
// verifying for the grace period, so the switch at the provider is safe.
func (d *Dashboard) rotateSourceSecret(c *fiber.Ctx) error {
	src, err := d.Relay.Store().GetSource(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	sec := c.FormValue("secret")
	if sec == "" {
		err = &relay.ValidationError{Field: "secret", Msg: "is required"}
	} else {
		_, err = d.Relay.UpdateSource(c.UserContext(), actor(c), src.ID, relay.SourceInput{Secret: &sec})
	}
	if err != nil {
		data, derr := d.sourceData(c, src)
		if derr != nil {
			return derr
		}
		return d.invalid(c, "source", data, err)
	}
	return d.redirect(c, "/sources/"+src.ID, "Secret rotated. The previous one keeps working for the grace period.")
}
