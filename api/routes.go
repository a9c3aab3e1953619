package api

import (
	"github.com/gofiber/fiber/v2"
)

// routes lists every route of the API in one place.
func (s *server) routes(app *fiber.App) {
	// guardBody first of all: nothing may read a body before it (body.go).
	app.Use(s.requestID, s.accessLog, s.guardBody)

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if s.Metrics != nil && !s.NoMetricsRoute {
		app.Get("/metrics", s.metrics())
	}

	app.All("/in/:token", s.ingest)

	// Before the group: the description needs no token.
	app.Get("/api/v1/openapi.json", s.openapi)
	v1 := app.Group("/api/v1", s.authenticate)
	v1.Get("/sources", s.listSources)
	v1.Post("/sources", s.needWrite, s.createSource)
	v1.Get("/sources/:id", s.getSource)
	v1.Patch("/sources/:id", s.needWrite, s.updateSource)
	v1.Delete("/sources/:id", s.needWrite, s.deleteSource)
	v1.Get("/sources/:id/rejected", s.listRejected)
	v1.Post("/sources/:id/secret/reveal", s.needWrite, s.revealSourceSecret)
	v1.Post("/sources/:id/rotate-ingest-token", s.needWrite, s.rotateIngestToken)

	v1.Get("/endpoints", s.listEndpoints)
	v1.Post("/endpoints", s.needWrite, s.createEndpoint)
	v1.Get("/endpoints/:id", s.getEndpoint)
	v1.Patch("/endpoints/:id", s.needWrite, s.updateEndpoint)
	v1.Delete("/endpoints/:id", s.needWrite, s.deleteEndpoint)
	v1.Post("/endpoints/:id/enable", s.needWrite, s.enableEndpoint)
	v1.Post("/endpoints/:id/disable", s.needWrite, s.disableEndpoint)
	v1.Post("/endpoints/:id/recover", s.needWrite, s.recoverEndpoint)
	v1.Post("/endpoints/:id/pause", s.needWrite, s.pauseEndpoint)
	v1.Post("/endpoints/:id/resume", s.needWrite, s.resumeEndpoint)
	v1.Post("/endpoints/:id/replay", s.needWrite, s.replayEndpoint)
	v1.Post("/endpoints/:id/secret/reveal", s.needWrite, s.revealEndpointSecret)
	v1.Post("/endpoints/:id/secret/rotate", s.needWrite, s.rotateEndpointSecret)

	v1.Get("/events", s.listEvents)
	v1.Get("/events/:id", s.getEvent)
	v1.Post("/events/:id/redeliver", s.needWrite, s.redeliverEvent)

	v1.Get("/deliveries/:id", s.getDelivery)
	v1.Post("/deliveries/:id/redeliver", s.needWrite, s.redeliver)

	v1.Get("/bulk-jobs/:id", s.getBulkJob)
	v1.Post("/bulk-jobs/:id/cancel", s.needWrite, s.cancelBulkJob)

	v1.Get("/audit", s.listAudit)
	v1.Get("/listen", s.listen)
}
