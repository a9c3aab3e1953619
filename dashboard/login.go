package dashboard

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// safeNext keeps only local paths, so ?next= cannot send a user elsewhere.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
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
		switch {
		case errors.Is(err, relay.ErrBadCredentials):
			c.Status(fiber.StatusUnauthorized)
			data["LoginError"] = "Wrong email or password."
		case errors.Is(err, relay.ErrThrottled):
			c.Status(fiber.StatusTooManyRequests)
			c.Set(fiber.HeaderRetryAfter, "60")
			data["LoginError"] = "Too many sign-in attempts. Wait a minute and try again."
		default:
			return err
		}
		return d.render(c, "login", data)
	}
	d.startSession(c, l)
	return c.Redirect(next, fiber.StatusSeeOther)
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
