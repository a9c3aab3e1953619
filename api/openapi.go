package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// OpenAPI is the OpenAPI 3.1 description of every /api/v1 route, served at
// /api/v1/openapi.json. It is written by hand and enforced by the tests:
// every registered route must be in it and every response the suite
// produces must validate against it (openapi_test.go).
//
//go:embed openapi.json
var OpenAPI []byte

// openapi serves the description. It is public: it holds no data, and
// clients fetch it before they have a token.
func (s *server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(OpenAPI)
}
