package dashboard

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// routes lists every route of the dashboard in one place. The API's routes
// are registered first, so its paths never reach these middlewares.
func (d *Dashboard) routes(app *fiber.App) {
	app.Get("/static/:file", d.static)

	// Pages without a session: CSRF is a double-submit cookie there.
	// Per route, not a group: a group's middleware would also run for
	// every route registered after it.
	pub := d.dashboardOnly(d.errorPages, d.optionalSession, d.checkCSRF)
	app.Get("/login", pub, d.loginPage)
	app.Post("/login", pub, d.login)
	app.Get("/invite/:token", pub, d.invitePage)
	app.Post("/invite/:token", pub, d.acceptInvite)

	// Everything registered on r (and after it) needs a session.
	r := app.Group("", d.dashboardOnly(d.errorPages, d.requireSession, d.checkCSRF))
	r.Post("/logout", d.logout)
	r.Get("/account", d.accountPage)
	r.Post("/account/password", d.changePassword)
	r.Post("/teams/switch", d.switchTeam)
	r.Get("/teams/new", d.newTeamPage)
	r.Post("/teams", d.createTeam)

	r.Get("/", d.need(relay.PermRead), d.overview)

	d.eventRoutes(r)
}
