// Package dashboard serves hookrelay's server-rendered web pages. It is a
// thin adapter over internal/relay, like the API: every page and action
// checks the signed-in user's role on the server, every POST carries a CSRF
// token, and every action works without JavaScript.
//
// Helpers for page authors (one handler per file, one template per page):
//
//   - Routes: routes.go lists every route. Pages that need a signed-in user go
//     on the authenticated router r (session + CSRF + error pages already
//     applied); add events pages in eventRoutes(r) (events_routes.go).
//   - d.need(perm) is a middleware that answers 403 unless the current role
//     grants perm (relay.PermRead, PermConfigure, PermSecrets, PermMembers,
//     PermOwner). Use it on every route: r.Get("/x", d.need(relay.PermRead), d.x).
//   - current(c) *relay.Current is the signed-in user, team and role (also in
//     c.Locals("current")); actor(c) relay.Actor is the audit actor with the IP.
//   - d.render(c, name, data fiber.Map) renders templates/<name>.html inside
//     the layout with c's status (default 200). The layout reads "Title" and
//     "Nav" (the active nav item: overview, sources, endpoints, events, bulk,
//     audit, team, tokens); render adds "Current", "Team", "CSRF", "Flash",
//     "Errors" (FieldErrors, never nil) and "Form" (map[string]string, never nil).
//   - d.invalid(c, name, data, err) re-renders a form with status 422 and the
//     field errors of a *relay.ValidationError (err is returned unchanged if
//     it is not one). Templates show them with {{template "field-error" (fe .Errors "url")}}.
//   - d.redirect(c, url, msg) sets a one-shot flash message and answers 303;
//     d.redirectErr(c, url, msg) does the same with an error-styled flash.
//   - Forms: every POST form includes {{template "csrf" .}} (a hidden _csrf
//     input); a POST without the right token gets 403 before the handler runs.
//   - Errors returned by handlers become HTML error pages (store.ErrNotFound →
//     404, relay.ErrForbidden → 403, *fiber.Error → its code, else 500 logged).
//   - Template funcs: asset "app.css" (fingerprinted URL), fe, ago, datetime,
//     short, unverified (a badge for an event with Verified=false), eq/ne etc.
//     from text/template, join, hasPerm .Current "configure"|"secrets"|"members"|"owner".
package dashboard

import (
	"html/template"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
)

// Deps are what the dashboard needs.
type Deps struct {
	Relay  *relay.Relay
	Logger *slog.Logger
	// Gate, when set, is the relay's endpoint gate: endpoint pages show
	// each endpoint's circuit state from it. Nil hides the circuit.
	Gate *delivery.Gate
	// PublicURL is the base URL users and providers reach hookrelay at: it
	// builds ingest and invite URLs, and https makes cookies Secure.
	PublicURL string
	// Production (HOOKRELAY_ENV=production) makes cookies Secure even with
	// an http PublicURL (TLS usually ends at a proxy in front), unless
	// InsecureCookies (HOOKRELAY_INSECURE_COOKIES) says browsers really
	// reach the dashboard over plain http.
	Production      bool
	InsecureCookies bool
}

// Dashboard holds the parsed templates and assets; build it once with New.
type Dashboard struct {
	Deps
	pages  map[string]*template.Template
	assets *assets
	secure bool
	queues *QueueConsole // set by MountQueues, for the navigation's link
}

// New parses the embedded templates and fingerprints the static assets; a
// broken template panics at start rather than on a page view.
func New(d Deps) *Dashboard {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.PublicURL = strings.TrimRight(d.PublicURL, "/")
	https := strings.HasPrefix(d.PublicURL, "https://")
	db := &Dashboard{Deps: d, secure: https || (d.Production && !d.InsecureCookies)}
	if d.Production && !https && db.secure {
		d.Logger.Info("dashboard_cookies_secure", "reason", "production: cookies are sent over https only; set HOOKRELAY_INSECURE_COOKIES=true if browsers reach the dashboard over plain http")
	}
	db.assets = loadAssets()
	db.pages = db.parseTemplates()
	return db
}

// Mount adds the dashboard's routes to the app, after the API's.
func (d *Dashboard) Mount(app *fiber.App) { d.routes(app) }
