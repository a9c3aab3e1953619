package dashboard

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// errorPages turns a handler's error into an HTML error page (the app's
// ErrorHandler belongs to the API and answers JSON). It also sets the
// security headers of every dashboard page.
func (d *Dashboard) errorPages(c *fiber.Ctx) error {
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	// Invite links carry their token in the path: never send it elsewhere.
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	err := next(c)
	if err == nil {
		return nil
	}
	status, title, msg := fiber.StatusInternalServerError, "Something went wrong", ""
	var fe *fiber.Error
	var ve *relay.ValidationError
	switch {
	case errors.Is(err, store.ErrNotFound):
		if d.otherTeamPage(c) {
			return nil
		}
		status, title, msg = fiber.StatusNotFound, "Not found", "This page does not exist, or it belongs to another team."
	case errors.Is(err, relay.ErrTeamCreation):
		status, title, msg = fiber.StatusForbidden, "Not allowed", "On this installation only owners of the first team create teams. Ask one of them to create it and invite you."
	case errors.Is(err, relay.ErrForbidden):
		status, title, msg = fiber.StatusForbidden, "Not allowed", "Your role in this team does not allow this. Ask an admin or owner."
	case errors.As(err, &ve):
		status, title, msg = fiber.StatusUnprocessableEntity, "Invalid input", ve.Error()
	case errors.As(err, &fe):
		status, title, msg = fe.Code, "Error", fe.Message
		switch fe.Code {
		case fiber.StatusNotFound:
			title, msg = "Not found", "This page does not exist."
		case fiber.StatusForbidden:
			title = "Not allowed"
		}
	default:
		rid, _ := c.Locals("request_id").(string)
		// The route pattern, not the path: /invite/:token carries a secret.
		d.Logger.Error("dashboard_request_failed", "request_id", rid, "method", c.Method(), "route", c.Route().Path, "error", err.Error())
		msg = "An unexpected error happened (request " + rid + "). It has been logged."
	}
	c.Status(status)
	if rerr := d.render(c, "error", fiber.Map{"Title": title, "Message": msg, "Status": status}); rerr != nil {
		return c.Status(status).SendString(title + ": " + msg)
	}
	return nil
}

var errScopes = &relay.ValidationError{Field: "scopes", Msg: "choose at least one scope"}
