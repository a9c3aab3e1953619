package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

func (s *server) listEndpoints(c *fiber.Ctx) error {
	eps, err := s.Relay.Store().ListEndpoints(c.UserContext(), token(c).TeamID)
	if err != nil {
		return err
	}
	out := make([]endpointView, len(eps))
	for i := range eps {
		out[i] = s.endpointView(&eps[i])
	}
	return c.JSON(fiber.Map{"data": out})
}

func (s *server) createEndpoint(c *fiber.Ctx) error {
	var in relay.EndpointInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ep, secret, err := s.Relay.CreateEndpoint(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	v := s.endpointView(ep)
	v.Secret = secret // shown once; later only through an audited reveal
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *server) getEndpoint(c *fiber.Ctx) error {
	ep, err := s.Relay.Store().GetEndpoint(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.endpointView(ep))
}

func (s *server) updateEndpoint(c *fiber.Ctx) error {
	var in relay.EndpointInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ep, err := s.Relay.UpdateEndpoint(c.UserContext(), actor(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(s.endpointView(ep))
}

func (s *server) setEnabled(c *fiber.Ctx, on bool) error {
	ep, err := s.Relay.SetEndpointEnabled(c.UserContext(), actor(c), c.Params("id"), on)
	if err != nil {
		return err
	}
	return c.JSON(s.endpointView(ep))
}

func (s *server) enableEndpoint(c *fiber.Ctx) error  { return s.setEnabled(c, true) }
func (s *server) disableEndpoint(c *fiber.Ctx) error { return s.setEnabled(c, false) }

// recoverEndpoint re-enables an endpoint and redelivers what failed since
// its trouble began.
func (s *server) recoverEndpoint(c *fiber.Ctx) error {
	n, err := s.Relay.RecoverEndpoint(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	ep, err := s.Relay.Store().GetEndpoint(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"endpoint": s.endpointView(ep), "redelivered": n})
}

func (s *server) deleteEndpoint(c *fiber.Ctx) error {
	if err := s.Relay.DeleteEndpoint(c.UserContext(), actor(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) revealEndpointSecret(c *fiber.Ctx) error {
	ep, err := s.Relay.Store().GetEndpoint(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	pts, err := s.Relay.RevealSecrets(c.UserContext(), actor(c), "endpoint", ep.ID, ep.Secrets)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"secrets": pts})
}

func (s *server) rotateEndpointSecret(c *fiber.Ctx) error {
	var in struct {
		Grace string `json:"grace"`
	}
	if len(c.BodyRaw()) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	var grace time.Duration
	if in.Grace != "" {
		g, err := time.ParseDuration(in.Grace)
		if err != nil || g < 0 || g > 30*24*time.Hour {
			return &relay.ValidationError{Field: "grace", Msg: "want a duration between 0s and 720h"}
		}
		grace = g
	}
	sec, err := s.Relay.RotateEndpointSecret(c.UserContext(), actor(c), c.Params("id"), grace)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"secret": sec})
}
