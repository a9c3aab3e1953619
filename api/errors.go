package api

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// apiError is an error with an HTTP status and a stable code.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, code, format string, args ...any) error {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorHandler maps every error a handler returns to the JSON error shape
// {"error": {"code", "message"}}; unexpected errors are logged with the
// request id and answered 500 without detail.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	var ae *apiError
	var ve *relay.ValidationError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ve):
		ae = &apiError{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed", Message: ve.Error()}
	case errors.Is(err, store.ErrNotFound):
		ae = &apiError{Status: fiber.StatusNotFound, Code: "not_found", Message: "not found"}
	case errors.Is(err, store.ErrConflict):
		ae = &apiError{Status: fiber.StatusConflict, Code: "conflict", Message: "already exists"}
	case errors.As(err, &fe):
		ae = &apiError{Status: fe.Code, Code: codeFor(fe.Code), Message: fe.Message}
	default:
		rid, _ := c.Locals("request_id").(string)
		s.Logger.Error("request_failed", "request_id", rid, "method", c.Method(), "path", c.Route().Path, "error", err.Error())
		ae = &apiError{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error (request " + rid + ")"}
	}
	return c.Status(ae.Status).JSON(fiber.Map{"error": fiber.Map{"code": ae.Code, "message": ae.Message}})
}

func codeFor(status int) string {
	switch status {
	case fiber.StatusBadRequest:
		return "bad_request"
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "body_too_large"
	case fiber.StatusUnauthorized:
		return "unauthorized"
	case fiber.StatusForbidden:
		return "forbidden"
	case fiber.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}
