package dashboard

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

var roles = []string{store.RoleOwner, store.RoleAdmin, store.RoleMember, store.RoleViewer}

// teamData is what the members page shows.
func (d *Dashboard) teamData(c *fiber.Ctx) (fiber.Map, error) {
	ctx, team := c.UserContext(), current(c).TeamID
	members, err := d.Relay.Store().MembersOf(ctx, team)
	if err != nil {
		return nil, err
	}
	invites, err := d.Relay.Store().ListInvites(ctx, team)
	if err != nil {
		return nil, err
	}
	now := d.Relay.Now()
	open := invites[:0]
	for _, in := range invites {
		if in.AcceptedAt == nil && in.ExpiresAt.After(now) {
			open = append(open, in)
		}
	}
	return fiber.Map{"Title": "Team", "Nav": "team", "Members": members, "Invites": open, "Roles": roles,
		"Form": map[string]string{"role": store.RoleMember}}, nil
}

func (d *Dashboard) teamPage(c *fiber.Ctx) error {
	data, err := d.teamData(c)
	if err != nil {
		return err
	}
	if link := d.takeOnce(c); link != "" {
		data["InviteURL"] = link
	}
	return d.render(c, "team", data)
}

// createInvite makes an invite link and shows it once: there is no email,
// the admin sends the link themselves.
func (d *Dashboard) createInvite(c *fiber.Ctx) error {
	tok, _, err := d.Relay.CreateInvite(c.UserContext(), current(c), c.IP(), c.FormValue("role"), c.FormValue("email"))
	if err != nil {
		data, derr := d.teamData(c)
		if derr != nil {
			return derr
		}
		data["Form"] = form(c, "role", "email")
		return d.invalid(c, "team", data, err)
	}
	// Redirect-after-POST with the link sealed for one view: a reload
	// neither shows it again nor creates a second invite.
	return d.redirectOnce(c, "/team", "Invite created.", d.PublicURL+"/invite/"+tok)
}

func (d *Dashboard) setRole(c *fiber.Ctx) error {
	if err := d.Relay.SetRole(c.UserContext(), current(c), c.IP(), c.Params("id"), c.FormValue("role")); err != nil {
		data, derr := d.teamData(c)
		if derr != nil {
			return derr
		}
		return d.actionFailed(c, "team", data, err)
	}
	return d.redirect(c, "/team", "Role changed.")
}

// revokeInvite cancels an open invite: its link stops working at once.
func (d *Dashboard) revokeInvite(c *fiber.Ctx) error {
	if err := d.Relay.RevokeInvite(c.UserContext(), current(c), c.IP(), c.Params("id")); err != nil {
		return err
	}
	return d.redirect(c, "/team", "Invite cancelled: its link no longer works.")
}

func (d *Dashboard) removeMember(c *fiber.Ctx) error {
	if err := d.Relay.RemoveMember(c.UserContext(), current(c), c.IP(), c.Params("id")); err != nil {
		data, derr := d.teamData(c)
		if derr != nil {
			return derr
		}
		return d.actionFailed(c, "team", data, err)
	}
	return d.redirect(c, "/team", "Member removed.")
}
