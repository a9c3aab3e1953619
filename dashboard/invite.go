package dashboard

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// inviteData looks the invite up; an unknown, used or expired link is 404.
func (d *Dashboard) inviteData(c *fiber.Ctx) (*store.Invite, fiber.Map, error) {
	in, err := d.Relay.LookupInvite(c.UserContext(), c.Params("token"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, fiber.NewError(fiber.StatusNotFound, "This invite link is invalid, already used or expired. Ask for a new one.")
		}
		return nil, nil, err
	}
	team, err := d.Relay.Store().GetTeam(c.UserContext(), in.TeamID)
	if err != nil {
		return nil, nil, err
	}
	return in, fiber.Map{"Title": "Join " + team.Name, "Invite": in, "TeamName": team.Name,
		"Path": "/invite/" + c.Params("token"), "Form": map[string]string{"email": in.Email}}, nil
}

func (d *Dashboard) invitePage(c *fiber.Ctx) error {
	_, data, err := d.inviteData(c)
	if err != nil {
		return err
	}
	return d.render(c, "invite", data)
}

// acceptInvite joins the team: a signed-in user directly, a new visitor
// after creating an account on this page (then signed in).
func (d *Dashboard) acceptInvite(c *fiber.Ctx) error {
	in, data, err := d.inviteData(c)
	if err != nil {
		return err
	}
	ctx, tok := c.UserContext(), c.Params("token")
	if cur := current(c); cur != nil {
		if _, err := d.Relay.AcceptInvite(ctx, tok, cur.User, c.IP()); err != nil {
			return err
		}
		if err := d.Relay.SwitchTeam(ctx, cur, in.TeamID); err != nil {
			return err
		}
		return d.redirect(c, "/", "Welcome to "+data["TeamName"].(string)+".")
	}
	pw := c.FormValue("password")
	data["Form"] = form(c, "email", "name")
	if pw != c.FormValue("confirm_password") {
		return d.invalid(c, "invite", data, &relay.ValidationError{Field: "confirm_password", Msg: "does not match the password"})
	}
	l, err := d.Relay.JoinWithInvite(ctx, tok, c.FormValue("email"), c.FormValue("name"), pw, c.IP(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		if ok, rerr := d.signInRefused(c, "invite", data, err); ok {
			return rerr
		}
		return d.invalid(c, "invite", data, err)
	}
	d.startSession(c, l)
	return d.redirect(c, "/", "Welcome to "+data["TeamName"].(string)+".")
}
