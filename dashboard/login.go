package dashboard

import (
	"errors"
	"net/url"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// safeNext keeps only same-origin paths, so ?next= can neither send a user
// elsewhere nor put anything but a path in the Location header: a single
// leading "/", no "//" or backslash (browsers read "/\\x" as "//x"), no
// control characters (a CR or LF would split the header; browsers drop a
// tab, so "/\t/x" becomes "//x"). The decoded form of s is checked too,
// in case something decodes it once more. Anything else is "/".
func safeNext(s string) string {
	if !localPath(s) {
		return "/"
	}
	if u, err := url.PathUnescape(s); err != nil || !localPath(u) {
		return "/"
	}
	return s
}

func localPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func (d *Dashboard) loginPage(c *fiber.Ctx) error {
	if current(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return d.render(c, "login", fiber.Map{"Title": "Sign in", "Next": safeNext(c.Query("next"))})
}

// login checks the password (throttled in relay.Login) and opens a session.
// A failure never says whether the email or the password was wrong.
func (d *Dashboard) login(c *fiber.Ctx) error {
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	l, err := d.Relay.Login(c.UserContext(), email, c.FormValue("password"), c.IP(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		data := fiber.Map{"Title": "Sign in", "Next": next, "Form": map[string]string{"email": email}}
		if ok, rerr := d.signInRefused(c, "login", data, err); ok {
			return rerr
		}
		return err
	}
	d.startSession(c, l)
	return c.Redirect(next, fiber.StatusSeeOther)
}

// signInRefused renders page with the answer to a refused password check
// (login or invite form): wrong credentials, throttled, or the throttle
// unreachable (sign-in fails closed). ok is false for any other error,
// which the caller handles.
func (d *Dashboard) signInRefused(c *fiber.Ctx, page string, data fiber.Map, err error) (ok bool, _ error) {
	switch {
	case errors.Is(err, relay.ErrBadCredentials):
		c.Status(fiber.StatusUnauthorized)
		data["LoginError"] = "Wrong email or password."
	case errors.Is(err, relay.ErrJoinRefused):
		c.Status(fiber.StatusUnprocessableEntity)
		data["LoginError"] = "This email and password cannot join with this link. If you already have a hookrelay account, enter its password, or sign in first and open this link again."
	case errors.Is(err, relay.ErrThrottled):
		c.Status(fiber.StatusTooManyRequests)
		c.Set(fiber.HeaderRetryAfter, "60")
		data["LoginError"] = "Too many sign-in attempts. Wait a minute and try again."
	case errors.Is(err, relay.ErrLimiterDown):
		c.Status(fiber.StatusServiceUnavailable)
		c.Set(fiber.HeaderRetryAfter, "30")
		data["LoginError"] = "Sign-in is temporarily unavailable, try again shortly."
	default:
		return false, nil
	}
	return true, d.render(c, page, data)
}

// startSession sets the session cookie of a fresh login.
func (d *Dashboard) startSession(c *fiber.Ctx, l *relay.Login) {
	d.setCookie(c, sessionCookie, l.Token, relay.SessionTTL)
	d.clearCookie(c, csrfCookie)
}

// logout revokes the session server-side, so the old cookie stops working.
func (d *Dashboard) logout(c *fiber.Ctx) error {
	if err := d.Relay.Logout(c.UserContext(), c.Cookies(sessionCookie), c.IP()); err != nil {
		return err
	}
	d.clearCookie(c, sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}
