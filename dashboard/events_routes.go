package dashboard

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// eventRoutes adds the events, deliveries, bulk redelivery and audit pages
// to the authenticated router. Every reader may look; redelivering takes
// PermConfigure (member and up).
func (d *Dashboard) eventRoutes(r fiber.Router) {
	read, act := d.need(relay.PermRead), d.need(relay.PermConfigure)
	r.Get("/events", read, d.eventsPage)
	r.Get("/events/:id", read, d.eventPage)
	r.Post("/events/:id/redeliver", act, d.redeliverEvent)
	r.Get("/deliveries/:id", read, d.deliveryPage)
	r.Post("/deliveries/:id/redeliver", act, d.redeliverDelivery)
	r.Get("/bulk", read, d.bulkPage)
	r.Post("/bulk", act, d.startBulk)
	r.Get("/bulk/:id", read, d.bulkJobPage)
	r.Post("/bulk/:id/cancel", act, d.cancelBulk)
	r.Get("/audit", read, d.auditPage)
	r.Get("/audit.csv", read, d.auditCSV)
}
