package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

func (s *server) listSources(c *fiber.Ctx) error {
	srcs, err := s.Relay.Store().ListSources(c.UserContext(), token(c).TeamID)
	if err != nil {
		return err
	}
	out := make([]sourceView, len(srcs))
	for i := range srcs {
		out[i] = s.sourceView(&srcs[i])
	}
	return c.JSON(fiber.Map{"data": out})
}

func (s *server) createSource(c *fiber.Ctx) error {
	var in relay.SourceInput
	if err := decode(c, &in); err != nil {
		return err
	}
	src, err := s.Relay.CreateSource(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.sourceView(src))
}

func (s *server) getSource(c *fiber.Ctx) error {
	src, err := s.Relay.Store().GetSource(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.sourceView(src))
}

func (s *server) updateSource(c *fiber.Ctx) error {
	var in relay.SourceInput
	if err := decode(c, &in); err != nil {
		return err
	}
	src, err := s.Relay.UpdateSource(c.UserContext(), actor(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(s.sourceView(src))
}

func (s *server) deleteSource(c *fiber.Ctx) error {
	if err := s.Relay.DeleteSource(c.UserContext(), actor(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// rotateIngestToken answers the source with its new ingest_url; the old
// URL stops working.
func (s *server) rotateIngestToken(c *fiber.Ctx) error {
	src, err := s.Relay.RotateIngestToken(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.sourceView(src))
}

func (s *server) revealSourceSecret(c *fiber.Ctx) error {
	src, err := s.Relay.Store().GetSource(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	pts, err := s.Relay.RevealSecrets(c.UserContext(), actor(c), "source", src.ID, src.Secrets)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"secrets": pts})
}

func (s *server) listRejected(c *fiber.Ctx) error {
	teamID := token(c).TeamID
	if _, err := s.Relay.Store().GetSource(c.UserContext(), teamID, c.Params("id")); err != nil {
		return err
	}
	limit, _ := strconv.Atoi(c.Query("limit", "50"))
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rs, err := s.Relay.Store().ListRejected(c.UserContext(), teamID, c.Params("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": rs})
}
