package dashboard

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// objectKinds name the objects of the pages a link can point into, by the
// path's first segment.
var objectKinds = map[string]string{"events": "event", "deliveries": "delivery", "endpoints": "endpoint",
	"sources": "source", "bulk": "bulk job"}

// otherTeamPage answers a not-found GET of an object page whose object
// belongs to another of the user's teams: a page that offers to switch to
// that team and come back (a CSRF-protected POST). It reports false, and
// writes nothing, when the object is missing or belongs to a team the user
// is not in: those get the ordinary not-found page, the same for both, so
// nothing about other teams' objects leaks.
func (d *Dashboard) otherTeamPage(c *fiber.Ctx) bool {
	cur := current(c)
	if cur == nil || c.Method() != fiber.MethodGet {
		return false
	}
	parts := strings.Split(strings.Trim(c.Path(), "/"), "/")
	kind, ok := objectKinds[parts[0]]
	if !ok || len(parts) < 2 {
		return false
	}
	team, err := d.Relay.Store().TeamOfObject(c.UserContext(), parts[1])
	if err != nil || team == cur.TeamID {
		return false
	}
	var m *store.Membership
	for i := range cur.Teams {
		if cur.Teams[i].TeamID == team {
			m = &cur.Teams[i]
		}
	}
	if m == nil {
		return false
	}
	c.Status(fiber.StatusNotFound)
	err = d.render(c, "otherteam", fiber.Map{"Title": "In another team", "Kind": kind, "TeamID": m.TeamID,
		"TeamName": m.TeamName, "Next": safeNext(c.OriginalURL())})
	return err == nil
}
