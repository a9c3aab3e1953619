package dashboard

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// QueuesPath is where the queue console (asynqmon) is mounted.
const QueuesPath = "/admin/queues"

// QueueConsole is asynqmon, asynq's web UI, for the installation's
// operators. Its queues hold every team's tasks, so it is not a team page:
// only the operator team (the installation's first team, the one
// `hookrelay admin bootstrap` creates) may open it. Owners of that team get
// the full console (pause queues, delete, run and archive tasks), admins a
// read-only one. Anyone else, including owners of teams they created
// themselves, gets 403.
type QueueConsole struct {
	full, readOnly *asynqmon.HTTPHandler
	fullH, readH   fiber.Handler

	mu       sync.Mutex
	operator string
	checked  time.Time
}

// NewQueueConsole builds both consoles over Redis. Close releases their
// Redis connections.
func NewQueueConsole(redis asynq.RedisConnOpt) *QueueConsole {
	q := &QueueConsole{
		full:     asynqmon.New(asynqmon.Options{RootPath: QueuesPath, RedisConnOpt: redis}),
		readOnly: asynqmon.New(asynqmon.Options{RootPath: QueuesPath, RedisConnOpt: redis, ReadOnly: true}),
	}
	q.fullH, q.readH = adaptor.HTTPHandler(q.full), adaptor.HTTPHandler(q.readOnly)
	return q
}

// Close closes the consoles' Redis connections.
func (q *QueueConsole) Close() error { return errors.Join(q.full.Close(), q.readOnly.Close()) }

// MountQueues adds the queue console at /admin/queues. It is listed here
// rather than in routes: the dashboard's middlewares skip /admin/, and the
// console brings its own (session, role, same-origin writes, and no CSP,
// since asynqmon's page runs inline scripts).
func (d *Dashboard) MountQueues(app *fiber.App, q *QueueConsole) {
	h := func(c *fiber.Ctx) error {
		return chain(c, []fiber.Handler{d.errorPages, d.requireSession, d.serveQueues(q)})
	}
	app.All(QueuesPath, h)
	app.All(QueuesPath+"/*", h)
	d.queues = q
}

// queuesRole is the user's role in the operator team when it may open the
// queue console ("" otherwise, or without a console).
func (d *Dashboard) queuesRole(c *fiber.Ctx) string {
	cur := current(c)
	if d.queues == nil || cur == nil {
		return ""
	}
	op, err := d.queues.operatorTeam(c.UserContext(), d.Relay.Store())
	if err != nil {
		return ""
	}
	for _, m := range cur.Teams {
		if m.TeamID == op && relay.Allowed(m.Role, relay.PermMembers) {
			return m.Role
		}
	}
	return ""
}

// serveQueues picks the console the signed-in user may use.
func (d *Dashboard) serveQueues(q *QueueConsole) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, err := q.operatorTeam(c.UserContext(), d.Relay.Store()); err != nil {
			return err
		}
		role := d.queuesRole(c)
		if role == "" {
			return relay.ErrForbidden
		}
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && !d.sameOrigin(c) {
			return fiber.NewError(fiber.StatusForbidden, "This request did not come from hookrelay's queue console.")
		}
		// The console's page needs inline scripts and styles (its React
		// build); everything else stays on this origin: its Google web
		// fonts are refused (font-src, style-src), so it renders with the
		// system's fonts and tells no outside host who opens it.
		c.Set(fiber.HeaderContentSecurityPolicy, queuesCSP)
		h := q.readH
		if relay.Allowed(role, relay.PermOwner) {
			h = q.fullH
		}
		if err := h(c); err != nil {
			return err
		}
		addQueuesBar(c)
		return nil
	}
}

// queuesCSP is the queue console's Content-Security-Policy.
const queuesCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// queuesBar is put at the top of the console's page: the way back to the
// dashboard, and a word on small screens, where the console is not usable.
const queuesBar = `<div id="hookrelay-bar" style="position:fixed;z-index:99999;left:0;right:0;bottom:0;` +
	`padding:6px 12px;background:#1f2328;color:#fff;font:14px system-ui,sans-serif">` +
	`<a href="/" style="color:#fff;font-weight:600">&larr; Back to hookrelay</a> ` +
	`<span>&middot; Queue console (asynqmon) for operators. It is built for wide screens; on a phone, ` +
	`use the dashboard's pages instead.</span></div>`

// addQueuesBar adds queuesBar to the console's HTML page (not to its
// API answers or assets).
func addQueuesBar(c *fiber.Ctx) {
	if !strings.HasPrefix(string(c.Response().Header.ContentType()), fiber.MIMETextHTML) {
		return
	}
	body := c.Response().Body()
	if i := bytes.Index(body, []byte("<body>")); i >= 0 {
		i += len("<body>")
		c.Response().SetBody(slices.Concat(body[:i], []byte(queuesBar), body[i:]))
	}
}

// sameOrigin guards the console's API calls, which carry no CSRF form
// token: browsers mark fetches from our own page as same-origin.
func (d *Dashboard) sameOrigin(c *fiber.Ctx) bool {
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o, err := url.Parse(c.Get(fiber.HeaderOrigin))
	if err != nil || o.Host == "" {
		return false
	}
	pub, err := url.Parse(d.PublicURL)
	return (err == nil && o.Scheme == pub.Scheme && o.Host == pub.Host) || o.Host == c.Hostname()
}

// operatorTeam is the installation's first team (ids sort by creation),
// leaving out hookrelay's internal operations team. Cached for a minute.
func (q *QueueConsole) operatorTeam(ctx context.Context, st *store.Store) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.operator != "" && time.Since(q.checked) < time.Minute {
		return q.operator, nil
	}
	teams, err := st.ListTeams(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range teams {
		if t.ID != relay.OpsTeamID {
			q.operator, q.checked = t.ID, time.Now()
			return t.ID, nil
		}
	}
	return "", relay.ErrForbidden
}
