package dashboard

import (
	"github.com/gofiber/fiber/v2"
)

func (d *Dashboard) tokensData(c *fiber.Ctx) (fiber.Map, error) {
	ts, err := d.Relay.Store().ListAPITokens(c.UserContext(), current(c).TeamID)
	if err != nil {
		return nil, err
	}
	return fiber.Map{"Title": "API tokens", "Nav": "tokens", "Tokens": ts,
		"Form": map[string]string{"read": "on", "write": ""}}, nil
}

func (d *Dashboard) tokensPage(c *fiber.Ctx) error {
	data, err := d.tokensData(c)
	if err != nil {
		return err
	}
	return d.render(c, "tokens", data)
}

// createToken makes a token and shows it once, in this response only.
func (d *Dashboard) createToken(c *fiber.Ctx) error {
	var scopes []string
	for _, s := range []string{"read", "write"} {
		if c.FormValue(s) != "" {
			scopes = append(scopes, s)
		}
	}
	data, err := d.tokensData(c)
	if err != nil {
		return err
	}
	data["Form"] = form(c, "name", "read", "write")
	if len(scopes) == 0 {
		return d.invalid(c, "tokens", data, errScopes)
	}
	plain, t, err := d.Relay.CreateToken(c.UserContext(), actor(c), c.FormValue("name"), scopes)
	if err != nil {
		return d.invalid(c, "tokens", data, err)
	}
	if data, err = d.tokensData(c); err != nil {
		return err
	}
	data["NewToken"], data["NewTokenID"] = plain, t.ID
	c.Status(fiber.StatusCreated)
	return d.render(c, "tokens", data)
}

func (d *Dashboard) revokeToken(c *fiber.Ctx) error {
	if err := d.Relay.RevokeToken(c.UserContext(), actor(c), c.Params("id")); err != nil {
		return err
	}
	return d.redirect(c, "/tokens", "Token revoked: requests using it now get 401.")
}
