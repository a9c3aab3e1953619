package dashboard

import (
	"cmp"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

func (d *Dashboard) accountPage(c *fiber.Ctx) error {
	may, err := d.Relay.MayCreateTeam(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	return d.render(c, "account", fiber.Map{"Title": "Your account", "MayCreateTeam": may})
}

// changePassword sets a new password; relay.ChangePassword revokes every
// other session of the user.
func (d *Dashboard) changePassword(c *fiber.Ctx) error {
	data := fiber.Map{"Title": "Your account"}
	pw, confirm := c.FormValue("new_password"), c.FormValue("confirm_password")
	if pw != confirm {
		return d.invalid(c, "account", data, &relay.ValidationError{Field: "confirm_password", Msg: "does not match the new password"})
	}
	err := d.Relay.ChangePassword(c.UserContext(), current(c), c.IP(), c.FormValue("current_password"), pw)
	if err != nil {
		return d.invalid(c, "account", data, err)
	}
	return d.redirect(c, "/account", "Password changed. Your other sessions were signed out.")
}

// switchTeam points the session at another of the user's teams.
func (d *Dashboard) switchTeam(c *fiber.Ctx) error {
	if err := d.Relay.SwitchTeam(c.UserContext(), current(c), c.FormValue("team_id")); err != nil {
		return err
	}
	// next: the page of another team's object (otherTeamPage) to go back to.
	return d.redirect(c, safeNext(cmp.Or(c.FormValue("next"), "/")), "")
}

func (d *Dashboard) newTeamPage(c *fiber.Ctx) error {
	if ok, err := d.Relay.MayCreateTeam(c.UserContext(), current(c)); err != nil {
		return err
	} else if !ok {
		return relay.ErrTeamCreation
	}
	return d.render(c, "teamnew", fiber.Map{"Title": "Create a team"})
}

// createTeam makes a team with the user as owner and switches to it.
func (d *Dashboard) createTeam(c *fiber.Ctx) error {
	cur := current(c)
	t, err := d.Relay.CreateTeam(c.UserContext(), cur, c.IP(), c.FormValue("name"))
	if err != nil {
		return d.invalid(c, "teamnew", fiber.Map{"Title": "Create a team", "Form": form(c, "name")}, err)
	}
	if err := d.Relay.SwitchTeam(c.UserContext(), cur, t.ID); err != nil {
		return err
	}
	return d.redirect(c, "/", "Team "+t.Name+" created. You are its owner.")
}
