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

	r.Get("/sources", d.need(relay.PermRead), d.sourcesList)
	r.Get("/sources/new", d.need(relay.PermConfigure), d.newSourcePage)
	r.Post("/sources", d.need(relay.PermConfigure), d.createSource)
	r.Get("/sources/:id", d.need(relay.PermRead), d.sourcePage)
	r.Get("/sources/:id/edit", d.need(relay.PermConfigure), d.editSourcePage)
	r.Post("/sources/:id", d.need(relay.PermConfigure), d.updateSource)
	r.Post("/sources/:id/delete", d.need(relay.PermConfigure), d.deleteSource)
	r.Post("/sources/:id/reveal", d.need(relay.PermSecrets), d.revealSourceSecret)
	r.Post("/sources/:id/rotate", d.need(relay.PermSecrets), d.rotateSourceSecret)
	r.Post("/sources/:id/api-key", d.need(relay.PermSecrets), d.setSourceAPIKey)
	r.Post("/sources/:id/backfill", d.need(relay.PermConfigure), d.startBackfill)
	r.Get("/backfills/:id", d.need(relay.PermRead), d.backfillPage)
	r.Post("/backfills/:id/cancel", d.need(relay.PermConfigure), d.cancelBackfill)

	r.Get("/endpoints", d.need(relay.PermRead), d.endpointsList)
	r.Get("/endpoints/new", d.need(relay.PermConfigure), d.newEndpointPage)
	r.Post("/endpoints", d.need(relay.PermConfigure), d.createEndpoint)
	r.Get("/endpoints/:id", d.need(relay.PermRead), d.endpointPage)
	r.Get("/endpoints/:id/deliveries", d.need(relay.PermRead), d.endpointLogPage)
	r.Get("/endpoints/:id/edit", d.need(relay.PermConfigure), d.editEndpointPage)
	r.Post("/endpoints/:id", d.need(relay.PermConfigure), d.updateEndpoint)
	r.Post("/endpoints/:id/enable", d.need(relay.PermConfigure), d.setEndpointEnabled(true))
	r.Post("/endpoints/:id/disable", d.need(relay.PermConfigure), d.setEndpointEnabled(false))
	r.Post("/endpoints/:id/delete", d.need(relay.PermConfigure), d.deleteEndpoint)
	r.Post("/endpoints/:id/recover", d.need(relay.PermConfigure), d.recoverEndpoint)
	r.Post("/endpoints/:id/pause", d.need(relay.PermConfigure), d.pauseEndpoint)
	r.Post("/endpoints/:id/resume", d.need(relay.PermConfigure), d.resumeEndpoint)
	r.Post("/endpoints/:id/replay", d.need(relay.PermConfigure), d.replayEndpoint)
	r.Post("/endpoints/:id/test", d.need(relay.PermConfigure), d.sendTestEvent)
	r.Post("/endpoints/:id/reveal", d.need(relay.PermSecrets), d.revealEndpointSecret)
	r.Post("/endpoints/:id/rotate", d.need(relay.PermSecrets), d.rotateEndpointSecret)

	r.Get("/team", d.need(relay.PermRead), d.teamPage)
	r.Post("/team/invites", d.need(relay.PermMembers), d.createInvite)
	r.Post("/team/invites/:id/revoke", d.need(relay.PermMembers), d.revokeInvite)
	r.Post("/team/members/:id/role", d.need(relay.PermMembers), d.setRole)
	r.Post("/team/members/:id/remove", d.need(relay.PermMembers), d.removeMember)

	r.Get("/tokens", d.need(relay.PermRead), d.tokensPage)
	r.Post("/tokens", d.need(relay.PermSecrets), d.createToken)
	r.Post("/tokens/:id/revoke", d.need(relay.PermSecrets), d.revokeToken)

	d.eventRoutes(r)
	// /admin/queues (asynqmon, operators only) is added by MountQueues, queues.go.
}
