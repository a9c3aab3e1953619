package dashboard

import "github.com/gofiber/fiber/v2"

func (d *Dashboard) invitePage(c *fiber.Ctx) error { return fiber.ErrNotFound }

func (d *Dashboard) acceptInvite(c *fiber.Ctx) error { return fiber.ErrNotFound }
