package dashboard

import (
	"context"
	"errors"
	"net/url"
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
}

// serveQueues picks the console the signed-in user may use.
func (d *Dashboard) serveQueues(q *QueueConsole) fiber.Handler {
	return func(c *fiber.Ctx) error {
		op, err := q.operatorTeam(c.UserContext(), d.Relay.Store())
		if err != nil {
			return err
		}
		role := ""
		for _, m := range current(c).Teams {
			if m.TeamID == op {
				role = m.Role
			}
		}
		if !relay.Allowed(role, relay.PermMembers) {
			return relay.ErrForbidden
		}
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && !d.sameOrigin(c) {
			return fiber.NewError(fiber.StatusForbidden, "This request did not come from hookrelay's queue console.")
		}
		// The console's page needs inline scripts and web fonts; it is
		// still never framed.
		c.Response().Header.Del(fiber.HeaderContentSecurityPolicy)
		if relay.Allowed(role, relay.PermOwner) {
			return q.fullH(c)
		}
		return q.readH(c)
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
