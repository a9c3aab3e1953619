package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Cookie names.
const (
	sessionCookie = "hookrelay_session"
	csrfCookie    = "hookrelay_csrf"
	flashCookie   = "hookrelay_flash"
)

// notDashboard are path prefixes served by the API: the dashboard's
// middlewares let them through untouched (e.g. an unknown /api/v1 path
// keeps the API's JSON 404 rather than a login redirect).
var notDashboard = []string{"/api/", "/in/", "/healthz", "/readyz", "/metrics", "/admin/"}

// dashboardOnly runs the middlewares in order for dashboard paths only.
func (d *Dashboard) dashboardOnly(mws ...fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := c.Path()
		for _, pre := range notDashboard {
			if strings.HasPrefix(p, pre) {
				return c.Next()
			}
		}
		return chain(c, mws)
	}
}

// chain runs mws[0], whose c.Next() runs the rest, then the route.
func chain(c *fiber.Ctx, mws []fiber.Handler) error {
	if len(mws) == 0 {
		return c.Next()
	}
	// Locals carry the position: Fiber's c.Next walks its own stack only.
	next := mws[1:]
	c.Locals("dashboard_chain", next)
	return mws[0](c)
}

// next continues a chain started by dashboardOnly.
func next(c *fiber.Ctx) error {
	mws, _ := c.Locals("dashboard_chain").([]fiber.Handler)
	return chain(c, mws)
}

// current returns the signed-in user (nil on public pages without a session).
func current(c *fiber.Ctx) *relay.Current {
	cur, _ := c.Locals("current").(*relay.Current)
	return cur
}

// actor is the audit actor of the signed-in user.
func actor(c *fiber.Ctx) relay.Actor { return current(c).Actor(c.IP()) }

// loadSession puts the session's Current in Locals when the cookie is valid.
func (d *Dashboard) loadSession(c *fiber.Ctx) error {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return nil
	}
	cur, err := d.Relay.SessionFromToken(c.UserContext(), tok)
	if errors.Is(err, store.ErrNotFound) {
		d.clearCookie(c, sessionCookie)
		return nil
	}
	if err != nil {
		return err
	}
	c.Locals("current", cur)
	return nil
}

// optionalSession loads the session if there is one.
func (d *Dashboard) optionalSession(c *fiber.Ctx) error {
	if err := d.loadSession(c); err != nil {
		return err
	}
	return next(c)
}

// requireSession sends visitors without a valid session to the login page.
func (d *Dashboard) requireSession(c *fiber.Ctx) error {
	if err := d.loadSession(c); err != nil {
		return err
	}
	if current(c) == nil {
		target := "/login"
		if c.Method() == fiber.MethodGet && c.OriginalURL() != "/" {
			target += "?next=" + url.QueryEscape(c.OriginalURL())
		}
		return c.Redirect(target, fiber.StatusSeeOther)
	}
	return next(c)
}

// need answers 403 unless the current role grants p. A user in no team is
// sent to create one.
func (d *Dashboard) need(p relay.Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cur := current(c)
		if cur == nil {
			return fiber.ErrUnauthorized
		}
		if cur.TeamID == "" {
			if c.Method() == fiber.MethodGet {
				return c.Redirect("/teams/new", fiber.StatusSeeOther)
			}
			return relay.ErrForbidden
		}
		if !cur.Can(p) {
			return relay.ErrForbidden
		}
		return c.Next()
	}
}

// csrfToken is the token forms must carry: the session's, or for visitors
// without one a random double-submit cookie (set here when missing).
func (d *Dashboard) csrfToken(c *fiber.Ctx) string {
	if cur := current(c); cur != nil {
		return cur.Session.CSRFToken
	}
	if t := c.Cookies(csrfCookie); len(t) >= 32 {
		return t
	}
	if t, ok := c.Locals("csrf_new").(string); ok {
		return t
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	c.Locals("csrf_new", t)
	d.setCookie(c, csrfCookie, t, 0)
	return t
}

// checkCSRF refuses a state-changing request whose _csrf field does not
// match, before any handler runs.
func (d *Dashboard) checkCSRF(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return next(c)
	}
	want := ""
	if cur := current(c); cur != nil {
		want = cur.Session.CSRFToken
	} else {
		want = c.Cookies(csrfCookie)
	}
	got := c.FormValue("_csrf")
	if want == "" || len(want) < 32 || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fiber.NewError(fiber.StatusForbidden, "This form has expired or did not come from hookrelay. Reload the page and try again.")
	}
	return next(c)
}

func (d *Dashboard) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: d.secure, SameSite: fiber.CookieSameSiteLaxMode}
	if maxAge > 0 {
		ck.Expires = time.Now().Add(maxAge)
		ck.MaxAge = int(maxAge.Seconds())
	}
	c.Cookie(ck)
}

func (d *Dashboard) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, Secure: d.secure,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(1, 0)})
}
