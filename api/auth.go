package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// requestID tags each request with an id (kept from X-Request-Id when sane:
// it is echoed in a response header and in logs, so only a short token of
// letters, digits and "._-" is kept, never control characters).
func (s *server) requestID(c *fiber.Ctx) error {
	rid := c.Get("X-Request-Id")
	if !saneRequestID(rid) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		rid = hex.EncodeToString(b)
	}
	c.Locals("request_id", rid)
	c.Set("X-Request-Id", rid)
	return c.Next()
}

func saneRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// authenticate resolves the bearer token to a team-scoped actor.
func (s *server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errorf(fiber.StatusUnauthorized, "unauthorized", "missing bearer token")
	}
	t, err := s.Relay.Authenticate(c.UserContext(), strings.TrimSpace(tok))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(fiber.StatusUnauthorized, "unauthorized", "invalid or revoked token")
	}
	if err != nil {
		return err
	}
	c.Locals("token", t)
	return c.Next()
}

// needWrite refuses tokens without the write scope.
func (s *server) needWrite(c *fiber.Ctx) error {
	if !relay.HasScope(token(c), relay.ScopeWrite) {
		return errorf(fiber.StatusForbidden, "forbidden", "this token lacks the write scope")
	}
	return c.Next()
}

func token(c *fiber.Ctx) *store.APIToken { return c.Locals("token").(*store.APIToken) }

// actor is who is acting, for audit rows.
func actor(c *fiber.Ctx) relay.Actor {
	t := token(c)
	return relay.Actor{TeamID: t.TeamID, Kind: "token", ID: t.ID, IP: c.IP()}
}
