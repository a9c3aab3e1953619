package dashboard

import "github.com/gofiber/fiber/v2"

// overview shows traffic charts and the endpoints that need attention.
func (d *Dashboard) overview(c *fiber.Ctx) error {
	return d.render(c, "overview", fiber.Map{"Title": "Overview", "Nav": "overview"})
}
